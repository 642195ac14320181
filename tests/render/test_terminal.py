"""The terminal view: on a terminal, log lines never land inside the progress bar, whose total is the
accounts in scope from the start; the run ends with its figures, their changes, the accounts not read,
the workbook and what the exit code means. Off a terminal, JSON lines only, as before."""

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
from dataclasses import dataclass, replace
from datetime import timedelta

from config_report.domain.changes import compare
from config_report.domain.figures import finished
from config_report.domain.model import Baseline
from config_report.domain.outcome import Outcome
from config_report.errors import ExitCode
from config_report.logs import configure, get_logger
from config_report.render.terminal import Progress, show_run, time_left
from config_report.simulated import SimulatedOrganization
from factories import DENIED, PROD, STARTED, finding, sample_report

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


@dataclass(frozen=True)
class State:
    """What the scan reports of its progress (the shape of `aws.scan.ScanProgress`)."""

    accounts: int
    accounts_read: float
    units_done: int
    units_expected: int
    units_exact: bool = False


_BAR_LINE = re.compile(r"scanning .*?(\d+)/(\d+) accounts, ([\d,]+)(/[\d,]+)? account-regions")


def bars(raw: str) -> list[tuple[int, int, str, str]]:
    """Each frame of the bar: accounts done, accounts in all, account-regions read, and their total
    ("" while it is not known)."""
    found = [_BAR_LINE.search(_ANSI.sub("", line)) for line in screen_lines(raw)]
    return [(int(m[1]), int(m[2]), m[3], (m[4] or "").lstrip("/")) for m in found if m]


def test_a_log_line_written_while_the_bar_is_drawn_gets_a_line_of_its_own() -> None:
    terminal = FakeTerminal()
    configure("auto", "INFO", stream=terminal)

    with Progress(accounts=2, as_json=False, stream=terminal) as progress:
        progress.update(State(accounts=2, accounts_read=0.25, units_done=1, units_expected=8))
        get_logger().warning("account.done", account_id="000000000042", status="ACCESS_DENIED")
        progress.update(State(accounts=2, accounts_read=2, units_done=8, units_expected=8, units_exact=True))

    lines = screen_lines(terminal.getvalue())
    assert any("account.done" in line for line in lines)
    assert any(_BAR in line for line in lines)
    assert mixed_lines(lines, "account.done") == []


def test_the_bar_counts_accounts_so_its_total_stays_put_while_account_regions_are_learned() -> None:
    terminal = FakeTerminal()
    configure("auto", "INFO", stream=terminal)
    # Account-regions in all, estimated account by account: 120, then 123, then 120 once all are opened.
    states = (
        State(accounts=40, accounts_read=0.5, units_done=2, units_expected=120),
        State(accounts=40, accounts_read=10, units_done=31, units_expected=123),
        State(accounts=40, accounts_read=40, units_done=120, units_expected=120, units_exact=True),
    )

    with Progress(accounts=40, as_json=False, stream=terminal) as progress:
        for state in states:
            progress.update(state)

    frames = bars(terminal.getvalue())
    assert frames[0] == (0, 40, "0", ""), "the bar is drawn from the start of the scan"
    assert {total for _, total, _, _ in frames} == {40}
    assert "123" not in {units_total for *_, units_total in frames}, "an estimate is never shown as a total"
    assert frames[-1] == (40, 40, "120", "120")


def test_the_time_left_is_told_at_the_pace_of_the_whole_scan_so_far() -> None:
    assert time_left(0, 10, elapsed=5) == "estimating time left"
    assert time_left(5, 10, elapsed=30) == "under a minute left"
    assert time_left(1, 10, elapsed=60) == "about 9 min left"
    assert time_left(2.5, 100, elapsed=300) == "about 3 h 15 min left"
    assert time_left(10, 10, elapsed=300) == "under a minute left"


def ending_shown(outcome: Outcome, *, with_baseline: bool = False) -> str:
    """What `show_run` prints for the sample report (production, sandbox, and an account denied); with a
    baseline, last week's run also failed a bucket fixed since."""
    report = sample_report()
    if with_baseline:
        before = sample_report(extra_findings=[finding(PROD, "s3-bucket-public-read-prohibited", "fixed")])
        last_week = replace(
            before,
            run=replace(before.run, run_id="20261116T090000Z-aaaaaa", started_at=STARTED - timedelta(days=7)),
        )
        baseline = Baseline("s3://b/k", last_week.run.run_id, last_week.run.started_at, last_week.figures)
        report = finished(compare(report, last_week, baseline))
    terminal = FakeTerminal()
    show_run(report, outcome=outcome, workbook=["s3://reports/2026/11/23/run/report.xlsx"], stream=terminal)
    return _ANSI.sub("", terminal.getvalue())


GAPS = Outcome(outcome=ExitCode.INCOMPLETE, exit_code=ExitCode.INCOMPLETE, gap_accounts=1)


def test_the_run_ends_with_its_figures_in_the_summarys_words_and_what_its_exit_code_means() -> None:
    shown = ending_shown(GAPS)

    assert re.search(r"Non-compliant resources\s*│\s*4\b", shown)
    assert re.search(r"Failing evaluations\s*│\s*\d+\b", shown)
    assert re.search(r"Coverage gaps\s*│\s*1\b", shown)
    assert re.search(rf"^Not read\s+{DENIED.name} \({DENIED.id}\): ACCESS_DENIED$", shown, re.MULTILINE)
    assert re.search(r"^Workbook\s+s3://reports/2026/11/23/run/report.xlsx$", shown, re.MULTILINE)
    assert re.search(
        r"^Exit code\s+3: report published, but coverage incomplete: an account, a region or a single rule "
        r"could not be read$",
        shown,
        re.MULTILINE,
    )
    assert re.search(r"^Changes\s+No baseline: no comparison was made", shown, re.MULTILINE)


def test_the_changes_since_the_previous_run_stand_beside_the_figures_and_below_them() -> None:
    shown = ending_shown(GAPS, with_baseline=True)

    assert re.search(r"┃\s*this run\s*┃\s*Since 16 Nov\s*┃", shown)
    assert re.search(r"Non-compliant resources\s*│\s*4\s*│\s*-1\s*│", shown)
    assert re.search(r"Newly non-compliant resources\s*│\s*0\s*│", shown)
    assert re.search(r"Resources no longer non-compliant\s*│\s*1\s*│", shown)
    assert re.search(
        r"^Compared with\s+the run of 16 November 2026 09:00 UTC \(20261116T090000Z-aaaaaa\)", shown, re.M
    )


def test_an_outcome_the_deployment_tolerates_says_what_it_was_and_which_setting_tolerates_it() -> None:
    tolerated = Outcome(outcome=ExitCode.INCOMPLETE, exit_code=ExitCode.OK, gap_accounts=1)

    shown = ending_shown(tolerated)

    assert re.search(
        r"^Exit code\s+0: tolerated by CONFIG_REPORT_FAIL_ON and CONFIG_REPORT_GAP_TOLERANCE; "
        r"the outcome is 3: report published, but coverage incomplete",
        shown,
        re.MULTILINE,
    )


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
    denied = next(a for a in reversed(seeded.accounts) if a.id != seeded.hub.account_id)
    simulated_org.faults.reset()
    simulated_org.faults.configure(deny_assume_role_into=[denied.id])
    try:
        returncode, output = run_on_a_terminal(simulated_org, "run")
    finally:
        simulated_org.faults.reset()

    assert returncode == 3, output[-3000:]
    lines = screen_lines(output)
    assert any(_BAR in line for line in lines), "the bar was drawn"
    denied_lines = [line for line in lines if "account.done" in line and denied.id in line]
    assert denied_lines, "the account with a gap has its own log line"
    assert mixed_lines(lines, "account.done") == []
    assert not any(_ANSI.sub("", line).lstrip().startswith("{") for line in lines), "no JSON on a terminal"
    (start,) = [_ANSI.sub("", line) for line in lines if "run.start" in line]
    assert "settings" not in start, "forty settings are the JSON line's and the manifest's"
    assert len(start) <= 2 * 120, start
    frames = bars(output)
    assert {total for _, total, _, _ in frames} == {len(seeded.accounts)}
    assert [done for done, *_ in frames] == sorted(done for done, *_ in frames)
    shown = _ANSI.sub("", output).replace("\r\n", "\n")
    assert "config-report: this run" in shown
    assert re.search(rf"^Not read\s+{re.escape(denied.name)} \({denied.id}\): ACCESS_DENIED$", shown, re.M)
    workbook = re.search(r"^Workbook\s+(s3://\S+\.xlsx)$", shown, re.MULTILINE)
    assert workbook, shown[-3000:]
    assert workbook[1].startswith(f"s3://{seeded.hub.report_bucket}/aws-config-reports/")
    assert re.search(r"^Exit code\s+3: report published, but coverage incomplete", shown, re.MULTILINE)


def test_with_regions_learned_from_each_account_the_bar_keeps_its_total_and_names_account_regions_once_known(
    simulated_org: SimulatedOrganization,
) -> None:
    # ec2:DescribeRegions in each account as it is opened; the denied account's regions are never learned.
    seeded = simulated_org.seeded
    *read, denied = seeded.accounts[:4]
    simulated_org.faults.reset()
    simulated_org.faults.configure(deny_assume_role_into=[denied.id])
    scope = ",".join(a.id for a in (*read, denied))
    try:
        returncode, output = run_on_a_terminal(
            simulated_org, "run", "--dry-run", CONFIG_REPORT_REGIONS="", CONFIG_REPORT_ACCOUNTS=scope
        )
    finally:
        simulated_org.faults.reset()

    assert returncode == 3, output[-3000:]
    frames = bars(output)
    assert {total for _, total, _, _ in frames} == {4}
    assert frames[0][3] == "", "no total of account-regions before the accounts are opened"
    totals = {units_total for *_, units_total in frames if units_total}
    assert len(totals) == 1, f"once known, the total of account-regions never moves: {totals}"
    assert frames[-1][:2] == (4, 4)
    shown = _ANSI.sub("", output).replace("\r\n", "\n")
    assert re.search(r"^Workbook\s+\S+\.xlsx \(dry run: nothing uploaded\)$", shown, re.MULTILINE)
