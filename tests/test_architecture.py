"""The layers' import contract (pyproject.toml, docs/architecture.md) holds, and a wrong arrow breaks it.

`make lint` runs the contract on the package; these tests run it on a copy of the package, once as it
is and once with an import that runs the wrong way, so a contract that could never fail is caught.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_copy(tmp_path: Path, *, add: tuple[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on a copy of the package (with the line `add[1]` appended to module `add[0]`)."""
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        REPO / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    if add is not None:
        module, line = add
        path = tmp_path / "src" / (module.replace(".", "/") + ".py")
        path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "src")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_package_keeps_every_import_contract(tmp_path: Path) -> None:
    done = lint_copy(tmp_path)

    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("config_report.render.terminal", "import config_report.aws.session", "Layers"),
        ("config_report.domain.model", "import config_report.store.bucket", "Layers"),
        ("config_report.store.history", "import config_report.jira", "Layers"),
        ("config_report.render.xlsx.cells", "import botocore", "never touch AWS"),
        ("config_report.aws.scan", "import config_report.simulated", "never imports the simulated"),
        ("config_report.simulated.seed", "import config_report.aws.region", "domain model only"),
    ],
    ids=["render-to-aws", "domain-to-store", "store-to-jira", "render-to-botocore", "job-to-simulator",
         "simulator-to-aws"],
)  # fmt: skip
def test_an_import_that_runs_the_wrong_way_breaks_the_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    done = lint_copy(tmp_path, add=(module, line))

    assert done.returncode == 1
    assert module in done.stdout
    assert any(broken in row and "BROKEN" in row for row in done.stdout.splitlines())


def test_only_the_report_bucket_makes_an_s3_client() -> None:
    package = REPO / "src" / "config_report"
    job = [p for p in package.rglob("*.py") if "simulated" not in p.relative_to(package).parts]

    makers = [p.relative_to(package) for p in job if re.search(r"""client\(\s*["']s3["']""", p.read_text())]

    assert makers == [Path("store/bucket.py")]
