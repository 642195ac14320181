"""The terminal view: a progress bar that log lines never overwrite, and the run's ending as a table.

On a terminal, one `rich` console owns stderr (`config_report.logs.console`): log lines go through it,
above the live bar. Off a terminal (a pod's log) nothing is drawn: progress is a
`scan.progress` JSON event every 15 seconds, as it always was.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Protocol, TextIO

import structlog
from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TaskID, TextColumn
from rich.progress import Progress as RichProgress
from rich.table import Column, Table
from rich.text import Text

from config_report.domain.changes import figure_change
from config_report.domain.model import AccountScan, AccountStatus, Changes, Figures, Report
from config_report.domain.outcome import Outcome
from config_report.errors import ExitCode
from config_report.logs import console
from config_report.settings import env_name

ACCOUNTS_LISTED = 10
"""How many accounts not read the closing table names before saying how many more."""


class ScanState(Protocol):
    """How far the scan is (`aws.scan.ScanProgress`): read-only, as the coordinator reports it."""

    @property
    def accounts_read(self) -> float: ...
    @property
    def units_done(self) -> int: ...
    @property
    def units_expected(self) -> int: ...
    @property
    def units_exact(self) -> bool: ...


@dataclass
class Progress:
    """How far the scan is: a live bar on a terminal, a `scan.progress` event every 15 s otherwise.

    The bar counts accounts, known from discovery: its total never moves. Account-regions are shown
    beside it, with their total only once it is exact (see `aws.scan.ScanProgress`). Use it as a
    context manager: the bar is drawn from the start of the scan and stopped however the scan ends.
    """

    accounts: int
    as_json: bool
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    every_seconds: float = 15.0
    started: float = field(default_factory=time.monotonic)
    _last_event: float = 0.0
    _bar: RichProgress | None = None
    _task: TaskID | None = None

    def __enter__(self) -> Progress:
        if not self.as_json and self.accounts:
            self._bar = RichProgress(
                TextColumn("scanning"),
                BarColumn(bar_width=None),  # the bar takes the width the words leave
                MofNCompleteColumn(),
                TextColumn(
                    "accounts, {task.fields[units]} account-regions",
                    table_column=Column(min_width=len("accounts, 9,999/9,999 account-regions")),
                ),
                _TimeLeft(table_column=Column(min_width=len("0:00:00, about 10 h 00 min left"))),
                console=console(self.stream),
                expand=True,
            )
            self._task = self._bar.add_task("scan", total=self.accounts, units="0")
            self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def update(self, state: ScanState) -> None:
        """Show `state`: move the bar, or log a `scan.progress` event when one is due."""
        if self.as_json:
            self._event(state.units_done, state.units_expected)
            return
        if self._bar is not None and self._task is not None:
            units = (
                f"{state.units_done:,}/{state.units_expected:,}"
                if state.units_exact
                else f"{state.units_done:,}"
            )
            self._bar.update(self._task, completed=state.accounts_read, units=units)

    def close(self) -> None:
        """Stop drawing the bar (it stays on screen as it last was); safe to call more than once."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _event(self, done: int, total: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else None
        now = time.monotonic()
        if done == total or now - self._last_event >= self.every_seconds:
            self._last_event = now
            structlog.get_logger("config_report").info(
                "scan.progress",
                units_done=done,
                units_total=total,
                rate_per_s=round(rate, 2),
                eta_s=round(eta, 1) if eta is not None else None,
            )


class _TimeLeft(ProgressColumn):
    """Time since the scan started and, at the pace so far, the time left.

    The pace is taken over the whole scan, not over rich's last 30 seconds: a Config region can take
    longer than that to read, and then rich has no estimate at all. While no region is finished the
    estimate grows, as it should: for now the scan goes slower than it did.
    """

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if task.finished or task.total is None:
            return Text(_clock(elapsed))
        return Text(f"{_clock(elapsed)}, {time_left(task.completed, task.total, elapsed)}")


def time_left(done: float, total: float, elapsed: float) -> str:
    """The time left in words, if the rest goes at the pace of `done` out of `total` in `elapsed` s."""
    if done <= 0 or elapsed <= 0:
        return "estimating time left"
    seconds = elapsed * (total - done) / done
    if seconds < 60:
        return "under a minute left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60:02d} min left"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def show_run(
    report: Report, *, outcome: Outcome, workbook: Sequence[str], stream: TextIO | None = None
) -> None:
    """The run's ending, for a person at a terminal (JSON logs carry it in `run.done`): the headline
    figures with their change since the previous run, the accounts not read, where the workbook is,
    and what the exit code means. `workbook` is where the workbook can be opened (its S3 URI, a local
    copy), first the one to open."""
    labelled: list[tuple[str, Sequence[str]]] = [
        *_changes_lines(report.changes),
        *_not_read_lines(report.scans),
        ("Workbook", workbook),
        ("Exit code", [_exit_line(outcome)]),
    ]
    width = max(len(label) for label, _ in labelled) + 2
    # Plain lines, not table cells: the terminal wraps a long path, so it is copied whole.
    lines = [
        f"{label if i == 0 else '':<{width}}{value}"
        for label, values in labelled
        for i, value in enumerate(values)
    ]
    out = console(stream)
    out.print(_figures_table(report, report.figures))
    out.print(Text("\n".join(lines)), soft_wrap=True)


def _figures_table(report: Report, figures: Figures) -> Table:
    changes = report.changes
    baseline = changes.baseline if changes is not None and changes.baseline.usable else None
    since = f"Since {baseline.started_at:%d %b}" if baseline is not None and baseline.started_at else ""
    table = Table(
        title=f"config-report: this run ({report.run.run_id})", title_justify="left", show_header=bool(since)
    )
    table.add_column("")
    table.add_column("this run", justify="right")
    if since:
        table.add_column(since, justify="right")

    def row(label: str, value: str, change_of: str = "") -> None:
        change = figure_change(figures, changes, change_of) if change_of else None
        cells = (label, value, _signed(change)) if since else (label, value)
        table.add_row(*cells)

    # The Summary's words and order: headline figures, then coverage, then the changes.
    row("Accounts in scope", f"{figures.accounts:,}", "accounts")
    row("Accounts fully scanned", f"{figures.accounts_fully_scanned:,}", "accounts_fully_scanned")
    row("Non-compliant resources", f"{figures.noncompliant_resources:,}", "noncompliant_resources")
    row("Critical and high", f"{figures.critical_high_resources:,}", "critical_high_resources")
    row("Failing evaluations", f"{figures.failing_evaluations:,}", "failing_evaluations")
    if report.exceptions:
        row("Accepted resources", f"{figures.accepted_resources:,}", "accepted_resources")
    row("Non-compliant rules", f"{figures.rules_noncompliant:,}", "rules_noncompliant")
    table.add_section()
    read = f"{figures.regions_scanned:,} of {figures.regions_total:,}"
    row("Account-regions read", read, "regions_scanned")
    row("Coverage gaps", f"{figures.coverage_gaps:,}", "coverage_gaps")
    row("Config missing, stopped or failing", f"{figures.broken_controls:,}", "broken_controls")
    row("Regions not used by the organization", f"{len(figures.regions_unused):,}")
    if baseline is not None and changes is not None:
        table.add_section()
        row("Newly non-compliant resources", f"{changes.new_resources:,}")
        row("Resources no longer non-compliant", f"{changes.resolved_resources:,}")
        if changes.not_read_now:
            row("Not compared: the previous run's findings", f"{len(changes.not_read_now):,}")
    return table


def _signed(change: int | None) -> str:
    if change is None:
        return ""
    return f"{change:+,}" if change else "0"


def _changes_lines(changes: Changes | None) -> list[tuple[str, Sequence[str]]]:
    """What the changes are counted against, or why there are none."""
    baseline = changes.baseline if changes is not None else None
    if baseline is None or not baseline.usable or baseline.started_at is None:
        problem = baseline.problem if baseline is not None else "no comparison was made"
        return [("Changes", [f"No baseline: {problem}. Changes start with the next run."])]
    return [
        (
            "Compared with",
            [
                f"the run of {_utc(baseline.started_at)} ({baseline.run_id}); changes are counted only "
                "where both runs read the account and region"
            ],
        )
    ]


def _utc(moment: datetime) -> str:
    return f"{moment:%d %B %Y %H:%M} UTC"


def _not_read_lines(scans: Sequence[AccountScan]) -> list[tuple[str, Sequence[str]]]:
    """The accounts not fully read, by name, with their Scan Status (the Accounts sheet's words)."""
    unread = [_not_read(scan) for scan in scans if not scan.status.complete]
    if not unread:
        return []
    named = unread[:ACCOUNTS_LISTED]
    if len(unread) > ACCOUNTS_LISTED:
        named.append(f"and {len(unread) - ACCOUNTS_LISTED:,} more: see the Accounts and Coverage sheets")
    return [("Not read", named)]


def _not_read(scan: AccountScan) -> str:
    account = f"{scan.account.name} ({scan.account.id}): {scan.status.value}"
    if scan.status is not AccountStatus.PARTIAL:
        return account
    regions = [f"{c.region} {c.status.value}" for c in scan.coverage if c.status.is_gap]
    rules = sum(1 for r in scan.rules if r.unread)
    alone = [f"{rules:,} rule{'' if rules == 1 else 's'} not read alone"] if rules else []
    return f"{account} ({', '.join(regions + alone)})"


def _exit_line(outcome: Outcome) -> str:
    code = outcome.exit_code
    if not outcome.tolerated:
        return f"{int(code)}: {code.meaning}"
    # This deployment chose not to fail the Job on this outcome: say which, and what it was.
    chose = env_name("fail_on")
    if outcome.outcome is ExitCode.INCOMPLETE:
        chose += f" and {env_name('gap_tolerance')}"
    was = outcome.outcome
    return f"{int(code)}: tolerated by {chose}; the outcome is {int(was)}: {was.meaning}"
