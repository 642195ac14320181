"""The terminal view: a progress bar that log lines never overwrite, and the run's figures at the end.

On a terminal, one `rich` console owns stderr (`config_report.logs.console`): log lines go through it,
above the live bar. Off a terminal (a pod's log) nothing is drawn: progress is a
`scan.progress` JSON event every 15 seconds, as it always was.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

import structlog
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from config_report.domain.model import Figures
from config_report.logs import console


@dataclass
class Progress:
    """Account-regions done out of total: a live bar on a terminal, periodic events otherwise.

    The total may grow or shrink while accounts' regions are learned (each `update` says it).
    """

    total: int
    as_json: bool
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    every_seconds: float = 15.0
    started: float = field(default_factory=time.monotonic)
    _last_event: float = 0.0
    _bar: RichProgress | None = None
    _task: Any = None

    def update(self, done: int, total: int | None = None) -> None:
        """Report that `done` account-regions out of `total` (when given, else the last) are finished."""
        if total is not None:
            self.total = total
        if self.as_json:
            self._event(done)
            return
        if self._bar is None:
            self._bar = RichProgress(
                TextColumn("scanning"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("account-regions"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console(self.stream),
            )
            self._task = self._bar.add_task("scan", total=self.total)
            self._bar.start()
        self._bar.update(self._task, completed=done, total=self.total)
        if done >= self.total:
            self.close()

    def close(self) -> None:
        """Stop drawing the bar (it stays on screen, finished); safe to call more than once."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _event(self, done: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else None
        now = time.monotonic()
        if done == self.total or now - self._last_event >= self.every_seconds:
            self._last_event = now
            structlog.get_logger("config_report").info(
                "scan.progress",
                units_done=done,
                units_total=self.total,
                rate_per_s=round(rate, 2),
                eta_s=round(eta, 1) if eta is not None else None,
            )


def show_figures(figures: Figures, *, exit_code: int, stream: TextIO | None = None) -> None:
    """The run's figures as a small table, for a person at a terminal (JSON logs carry them already)."""
    table = Table(title="config-report: this run", title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = (
        ("Accounts in scope", f"{figures.accounts:,}"),
        ("Accounts fully scanned", f"{figures.accounts_fully_scanned:,}"),
        ("Account-regions read", f"{figures.regions_scanned:,} of {figures.regions_total:,}"),
        ("Coverage gaps", f"{figures.coverage_gaps:,}"),
        ("Config missing, stopped or failing", f"{figures.broken_controls:,}"),
        ("Regions not used by the organization", f"{len(figures.regions_unused):,}"),
        ("Non-compliant rules", f"{figures.rules_noncompliant:,}"),
        ("Non-compliant resources", f"{figures.noncompliant_resources:,}"),
        ("Failing evaluations", f"{figures.failing_evaluations:,}"),
        ("Accepted resources", f"{figures.accepted_resources:,}"),
        ("Exit code", str(exit_code)),
    )
    for label, value in rows:
        table.add_row(label, value)
    console(stream).print(table)
