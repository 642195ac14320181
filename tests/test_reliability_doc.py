"""docs/reliability.md says exactly what the fault tests' markers declare (and the tests assert)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reliability import DOC


def test_the_committed_reliability_table_is_the_one_the_markers_generate(tmp_path: Path) -> None:
    generated = tmp_path / "reliability.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--reliability-doc",
            str(generated),
            "tests/app/test_reliability.py",
        ],
        cwd=DOC.parents[1],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert generated.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8"), (
        "docs/reliability.md is stale: run `make reliability` and commit it"
    )
    assert "| 5xx burst from AWS Config |" in DOC.read_text(encoding="utf-8")
