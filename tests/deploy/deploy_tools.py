"""The deployment tests' tools and the Helm chart they check.

The tools (Helm 4's SDK, kubernetes-validate, checkov, cfn-lint, hadolint, parliament; terraform from
the machine) are installed by `make deploy-tools` into `.tools/` (override with DEPLOY_TOOLS_DIR), apart
from the application's venv. `helm` is `tools/helm_sdk.py` run by that venv's Python: Helm 4's own
library, whose default Kubernetes version is current, so no render needs `--kube-version`. A missing
tool fails the test that needs it instead of skipping it: CI must prove the deployment, not quietly do
less.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = Path(os.environ.get("DEPLOY_TOOLS_DIR", REPO_ROOT / ".tools"))
CHART_DIR = REPO_ROOT / "deploy" / "helm" / "config-report"
MINIMAL_VALUES = CHART_DIR / "ci" / "minimal-values.yaml"
# `helm template` and `helm lint` on Helm 4's library (see tools/helm_sdk.py).
HELM_SCRIPT = REPO_ROOT / "tools" / "helm_sdk.py"

Manifest = dict[str, Any]


@dataclass(frozen=True)
class DeployTools:
    """Where `make deploy-tools` put the deploy checks' tools (override with DEPLOY_TOOLS_DIR)."""

    root: Path

    def path(self, name: str) -> Path:
        """The executable `name`: from the tools venv, or PATH (terraform)."""
        candidate = self.root / "venv" / "bin" / name
        if os.access(candidate, os.X_OK):
            return candidate
        found = shutil.which(name)
        if found is None:
            pytest.fail(
                f"deploy tool {name!r} not found under {self.root} or on PATH; run `make deploy-tools`"
            )
        return Path(found)

    def command(self, name: str) -> list[str]:
        """The command line that starts `name` (`helm` is the Helm SDK's script, run by the tools venv)."""
        if name == "helm":
            return [str(self.path("python")), str(HELM_SCRIPT)]
        return [str(self.path(name))]

    def run(
        self, name: str, *args: str | Path, cwd: Path | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run a tool and return what it did; the caller asserts on the outcome."""
        return subprocess.run(
            [*self.command(name), *map(str, args)],
            cwd=cwd or REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def check(self, name: str, *args: str | Path, cwd: Path | None = None) -> str:
        """Run a tool that must succeed; fail the test with its output otherwise. Returns stdout."""
        done = self.run(name, *args, cwd=cwd)
        assert done.returncode == 0, f"{name} {' '.join(map(str, args))} exited {done.returncode}:\n" + (
            done.stdout + done.stderr
        )
        return done.stdout


@dataclass(frozen=True)
class Chart:
    """The config-report Helm chart, rendered with real helm."""

    tools: DeployTools
    directory: Path = CHART_DIR
    # The chart refuses to render without its required values: every render starts from these.
    base_values: tuple[Path, ...] = (MINIMAL_VALUES,)
    namespace: str = "security-compliance"

    def template_args(self, values: Sequence[Path] = (), sets: Sequence[str] = ()) -> list[str]:
        """`helm template` arguments (release namespace, base values) for these values and overrides."""
        args = ["template", "config-report", str(self.directory), "--namespace", self.namespace]
        for path in (*self.base_values, *values):
            args += ["--values", str(path)]
        for assignment in sets:
            args += ["--set", assignment]
        return args

    def render_text(self, values: Sequence[Path] = (), sets: Sequence[str] = ()) -> str:
        """The rendered manifests as helm prints them."""
        return self.tools.check("helm", *self.template_args(values, sets))

    def render(self, values: Sequence[Path] = (), sets: Sequence[str] = ()) -> list[Manifest]:
        """The rendered manifests, parsed."""
        return [doc for doc in yaml.safe_load_all(self.render_text(values, sets)) if doc]

    def rejects(self, sets: Sequence[str]) -> str:
        """Render with these overrides, which must fail; returns helm's error message."""
        done = self.tools.run("helm", *self.template_args(sets=sets))
        assert done.returncode != 0, f"helm accepted {sets}:\n{done.stdout}"
        return done.stderr


def find(manifests: Sequence[Manifest], kind: str) -> Manifest:
    """The one manifest of this kind."""
    matches = [m for m in manifests if m["kind"] == kind]
    assert len(matches) == 1, f"expected one {kind}, found {len(matches)}"
    return matches[0]
