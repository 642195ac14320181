"""The container image, checked without a Docker engine.

hadolint lints the Dockerfile. The image's install step (the hashed lock file into a bare venv, then
the project's wheel without dependencies) is replayed into a fresh virtualenv, and that venv is run the
way the chart runs the pod: as the image's numeric user, with a read-only root filesystem and a fresh
tmpfs at /tmp (a private mount namespace), up to publishing a report from the simulated organization.
The Dockerfile's contract with the chart (user, entrypoint) is pinned too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from config_report.simulated import SimulatedOrganization
from deploy.deploy_tools import CHART_DIR, REPO_ROOT, DeployTools

DOCKERFILE = REPO_ROOT / "Dockerfile"
LOCK = REPO_ROOT / "requirements.lock"


def pip(*args: str | Path) -> str:
    """The running interpreter's pip (the app venv's), as the image uses the base image's pip."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"pip {' '.join(map(str, args))}:\n{done.stdout}{done.stderr}"
    return done.stdout


# A Python 3.11 that every user may run, as in the image (the app venv's may live under /root).
POD_PYTHONS = (Path("/usr/local/bin/python3.11"), Path("/usr/bin/python3.11"))
# In a private mount namespace: the root filesystem read-only and a fresh tmpfs at /tmp, as the chart
# mounts them; then the image's numeric user runs the command.
POD_MOUNTS = (
    'mount -o remount,bind,ro / && mount -t tmpfs -o size=256m,mode=1777 tmpfs /tmp && cd /tmp && exec "$@"'
)


def pod_python() -> Path:
    """The interpreter the image venv is built on."""
    for candidate in POD_PYTHONS:
        if candidate.exists():
            return candidate
    pytest.fail(
        f"no Python 3.11 at {', '.join(map(str, POD_PYTHONS))} for the image venv: apt-get install python3.11"
    )


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv installed exactly as the Dockerfile's builder stage installs /opt/venv."""
    build = tmp_path_factory.mktemp("image")
    # Readable by the pod's user, and outside /tmp, which the pod gets as its own empty tmpfs.
    home = Path(tempfile.mkdtemp(prefix="config-report-image-", dir="/var/tmp"))
    home.chmod(0o755)
    try:
        venv = home / "venv"
        subprocess.run([pod_python(), "-m", "venv", "--without-pip", venv], check=True, timeout=120)
        python = venv / "bin" / "python"
        pip(
            "--python",
            python,
            "install",
            "--no-cache-dir",
            "--require-hashes",
            "--only-binary=:all:",
            "-r",
            LOCK,
        )
        # The build context the Dockerfile copies, minus what .dockerignore leaves out.
        context = build / "context"
        shutil.copytree(
            REPO_ROOT / "src",
            context / "src",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(REPO_ROOT / name, context / name)
        pip("wheel", "--no-cache-dir", "--no-deps", "--wheel-dir", build / "wheels", context)
        (wheel,) = (build / "wheels").glob("config_report-*.whl")
        pip("--python", python, "install", "--no-cache-dir", "--no-deps", "--no-index", wheel)
        yield venv
    finally:
        shutil.rmtree(home)


def image_env(venv: Path) -> dict[str, str]:
    """The image's environment: its venv first on PATH, HOME and TMPDIR on /tmp, no bytecode writes."""
    return {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }


def image_user() -> tuple[int, int]:
    """The numeric uid and gid of the Dockerfile's USER."""
    (user,) = [
        line.split()[1] for line in final_stage(DOCKERFILE.read_text()) if line.upper().startswith("USER ")
    ]
    uid, gid = (int(part) for part in user.split(":"))
    return uid, gid


def run_in_pod(venv: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`config-report ARGS` from the image venv as the pod runs it: its user, read-only root, tmpfs /tmp."""
    uid, gid = image_user()
    drop = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    return subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            POD_MOUNTS,
            "pod",
            *drop,
            str(venv / "bin" / "config-report"),
            *args,
        ],
        env=image_env(venv) | (env or {}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_dockerfile_passes_hadolint(deploy_tools: DeployTools) -> None:
    assert deploy_tools.check("hadolint", DOCKERFILE) == ""


def test_console_script_runs_from_the_image_install(image_venv: Path) -> None:
    done = run_in_pod(image_venv, "--help")
    assert done.returncode == 0, done.stdout + done.stderr
    for command in ("run", "demo", "check"):
        assert command in done.stdout


def test_image_install_satisfies_every_runtime_dependency(image_venv: Path) -> None:
    # The wheel goes in with --no-deps: a dependency missing from the lock would only show at run time.
    assert "No broken requirements" in pip("--python", image_venv / "bin" / "python", "check")


def test_image_install_carries_no_demo_or_dev_packages(image_venv: Path) -> None:
    installed = pip("--python", image_venv / "bin" / "python", "list", "--format=freeze").lower()
    for package in ("moto", "pytest", "mypy", "ruff", "pip=="):
        assert package not in installed


def test_invalid_settings_stop_the_image_with_exit_code_2(image_venv: Path) -> None:
    # What the chart's podFailurePolicy counts on: bad configuration is exit 2, before any AWS call.
    done = run_in_pod(
        image_venv, "check", env={"CONFIG_REPORT_REGIONS": "not-a-region", "AWS_REGION": "eu-west-1"}
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "CONFIG_REPORT_REGIONS" in done.stderr


def test_the_image_publishes_a_report_with_a_read_only_root_as_a_non_root_user(
    image_venv: Path, simulated_org: SimulatedOrganization
) -> None:
    simulated_org.faults.reset()
    s3 = simulated_org.client("s3")
    bucket = simulated_org.seeded.hub.report_bucket
    before = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    done = run_in_pod(image_venv, "run", env=simulated_org.client_env())
    assert done.returncode == 0, done.stderr[-3000:]
    after = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert [key for key in after - before if key.endswith(".xlsx")], sorted(after - before)


def final_stage(dockerfile: str) -> list[str]:
    """The instructions of the Dockerfile's last stage, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    lines = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    last_from = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    return lines[last_from:]


def test_final_stage_is_the_slim_base_plus_the_venv_run_as_a_numeric_user() -> None:
    text = DOCKERFILE.read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim\n" in text
    stage = final_stage(text)
    assert stage[0] == "FROM ${PYTHON_IMAGE}"
    assert not [line for line in stage if line.upper().startswith(("RUN ", "ADD "))], "nothing built here"
    copies = [line for line in stage if line.upper().startswith("COPY ")]
    assert copies == ["COPY --from=builder /opt/venv /opt/venv"]
    assert 'ENTRYPOINT ["config-report"]' in stage
    assert 'CMD ["run"]' in stage
    uid, gid = image_user()
    assert uid >= 10000
    assert gid >= 10000
    labels = " ".join(line for line in stage if line.upper().startswith("LABEL "))
    for label in ("title", "version", "revision", "created", "source", "licenses"):
        assert f"org.opencontainers.image.{label}=" in labels


def test_chart_runs_pods_as_the_images_user() -> None:
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    for context in (values["podSecurityContext"], values["securityContext"]):
        assert (context["runAsUser"], context["runAsGroup"]) == image_user()
