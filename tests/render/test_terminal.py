"""The terminal view: on a terminal, log lines never land inside the progress bar, and the run ends
with its figures as a table; off a terminal, JSON lines only, as before."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading

from config_report.logs import configure, get_logger
from config_report.render.terminal import Progress, show_figures
from config_report.simulated import SimulatedOrganization
from factories import sample_report

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_BAR = "━"


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal, as stderr is when a person runs the command."""

    def isatty(self) -> bool:
        return True


def screen_lines(raw: str) -> list[str]:
    """What a terminal shows line by line: colours and cursor moves dropped, a carriage return or a
    cursor-up starting a new line (that is where rich redraws the bar)."""
    return [line for line in re.split(r"[\r\n]|\x1b\[\d*A|\x1b\[2K", raw) if _ANSI.sub("", line).strip()]


def mixed_lines(lines: list[str], event: str) -> list[str]:
    return [_ANSI.sub("", line) for line in lines if event in line and _BAR in line]


def test_a_log_line_written_while_the_bar_is_drawn_gets_a_line_of_its_own() -> None:
    terminal = FakeTerminal()
    configure("auto", "INFO", stream=terminal)
    progress = Progress(total=4, as_json=False, stream=terminal)

    progress.update(1)
    get_logger().warning("account.done", account_id="000000000042", status="ACCESS_DENIED")
    progress.update(4)

    lines = screen_lines(terminal.getvalue())
    assert any("account.done" in line for line in lines)
    assert any(_BAR in line for line in lines)
    assert mixed_lines(lines, "account.done") == []


def test_the_figures_table_names_each_headline_figure() -> None:
    terminal = FakeTerminal()
    figures = sample_report().figures

    show_figures(figures, exit_code=3, stream=terminal)

    shown = _ANSI.sub("", terminal.getvalue())
    assert re.search(r"Non-compliant resources\s*│\s*4\b", shown)
    assert re.search(r"Coverage gaps\s*│\s*1\b", shown)
    assert re.search(r"Exit code\s*│\s*3\b", shown)


def run_on_a_terminal(sim: SimulatedOrganization, *args: str, **env: str) -> tuple[int, str]:
    """`config-report ARGS` with stderr on a pseudo-terminal 120 columns wide, as a person runs it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_REPORT_"))}
    environment |= sim.client_env() | {"CONFIG_REPORT_LOG_FORMAT": "auto", "TERM": "xterm-256color"} | env
    environment.pop("NO_COLOR", None)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the process closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    done = subprocess.run(
        [sys.executable, "-m", "config_report", *args],
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        timeout=600,
        check=False,
    )
    os.close(secondary)
    reader.join(timeout=60)
    os.close(primary)
    return done.returncode, b"".join(chunks).decode("utf-8", errors="replace")


def test_on_a_terminal_the_run_draws_a_bar_keeps_log_lines_apart_and_ends_with_its_figures(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    denied = next(a.id for a in reversed(seeded.accounts) if a.id != seeded.hub.account_id)
    simulated_org.faults.reset()
    simulated_org.faults.configure(deny_assume_role_into=[denied])
    try:
        returncode, output = run_on_a_terminal(simulated_org, "run")
    finally:
        simulated_org.faults.reset()

    assert returncode == 3, output[-3000:]
    lines = screen_lines(output)
    assert any(_BAR in line for line in lines), "the bar was drawn"
    denied_lines = [line for line in lines if "account.done" in line and denied in line]
    assert denied_lines, "the account with a gap has its own log line"
    assert mixed_lines(lines, "account.done") == []
    assert not any(_ANSI.sub("", line).lstrip().startswith("{") for line in lines), "no JSON on a terminal"
    shown = _ANSI.sub("", output)
    assert "config-report: this run" in shown
    assert re.search(r"Exit code\s*│\s*3\b", shown)
