"""The README and the runbook stay true: their commands are run, or checked, as a user would read them."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RUNBOOK = REPO / "docs" / "deploy.md"
# Variables a shell provides; everything else a runbook command uses must be set in the runbook.
SHELL_VARIABLES = {"HOME", "PWD", "PATH"}


def shell_blocks(path: Path) -> list[str]:
    """The ```sh blocks of a Markdown file."""
    return re.findall(r"```sh\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def commands(block: str) -> Iterator[str]:
    """Logical command lines (backslash continuations joined), here-documents left out."""
    text = re.sub(r"<<'?EOF'?\n.*?\nEOF\n", "\n", block, flags=re.S)
    yield from (line.strip() for line in text.replace("\\\n", " ").splitlines() if line.strip())


def test_every_variable_the_runbook_uses_is_defined_in_it() -> None:
    text = "\n".join(shell_blocks(RUNBOOK))
    defined = set(re.findall(r"(?:^|export |read -rs )([A-Z_][A-Z0-9_]*)=?", text, re.M)) | SHELL_VARIABLES
    used = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", text))
    assert used - defined == set()


def test_every_aws_cli_call_in_the_runbook_names_its_region() -> None:
    missing = []
    for block in shell_blocks(RUNBOOK):
        for line in commands(block):
            line = re.split(r"\s#\s", line, maxsplit=1)[0]  # a comment is not a call
            for call in re.finditer(r"(?<![\w/-])aws [a-z0-9-]+ [a-z0-9-]+", line):
                rest = re.split(r"\||\)\"?\s|$", line[call.start() :], maxsplit=1)[0]
                if "--region" not in rest:
                    missing.append(line)
    assert missing == []


def test_the_runbook_finds_the_latest_report_from_its_pointer_not_a_listing() -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    assert "latest.json" in text
    assert "| tail" not in text
    assert "aws s3 ls" not in text


README_LINE = re.compile(r"^\.venv/bin/(config-report [^#]*?)\s*#.*exit (\d)$")


def readme_commands() -> list[tuple[str, int]]:
    """The `config-report` lines of the README's simulator block with the exit code each comment shows."""
    (block,) = [b for b in shell_blocks(README) if "config_report.simulated" in b]
    found = [(m.group(1), int(m.group(2))) for line in commands(block) if (m := README_LINE.match(line))]
    assert len(found) >= 3, block
    return found


@pytest.fixture(scope="module")
def readme_simulator() -> Iterator[dict[str, str]]:
    """The simulator started exactly as the README says, and the environment its `export` lines give."""
    (block,) = [b for b in shell_blocks(README) if "config_report.simulated" in b]
    start = next(line for line in commands(block) if "config_report.simulated" in line)
    args = shlex.split(start)[1:]  # the README's `.venv/bin/python` is this interpreter
    server = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert server.stdout is not None
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_REPORT_"))}
    try:
        for line in server.stdout:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                environment[name] = shlex.split(value)[0] if value else ""
            if "Ctrl-C" in line:
                break
        environment["CONFIG_REPORT_LOG_FORMAT"] = "json"
        yield environment
    finally:
        server.terminate()
        server.wait(timeout=60)
        server.stdout.close()


@pytest.mark.parametrize(("command", "exit_code"), readme_commands(), ids=lambda v: str(v))
def test_each_readme_command_ends_as_the_readme_says(
    readme_simulator: dict[str, str], command: str, exit_code: int
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "config_report", *shlex.split(command)[1:]],
        env=readme_simulator,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == exit_code, done.stdout + done.stderr[-2000:]


def test_the_pictures_the_readme_shows_are_in_the_repository() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README.read_text(encoding="utf-8"))

    assert "docs/summary.png" in pictures  # `make summary-png` draws it
    assert [picture for picture in pictures if not (REPO / picture).is_file()] == []
