"""The trend: one history line per run, and the last 12 weeks of them that the Summary plots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from config_report.domain.model import FindingStatus, HistoryEntry, Report

TREND_WEEKS = 12


def entry_for(report: Report) -> HistoryEntry:
    """The history line of a run."""
    figures = report.figures
    changes = report.changes
    compared = changes is not None and changes.baseline.usable
    return HistoryEntry(
        run_id=report.run.run_id,
        started_at=report.run.started_at,
        accounts=figures.accounts,
        noncompliant_resources=figures.noncompliant_resources,
        regions_scanned=figures.regions_scanned,
        regions_total=figures.regions_total,
        coverage_gaps=figures.coverage_gaps,
        new_findings=len(changes.new) if changes is not None and compared else None,
        resolved_findings=len(changes.resolved) if changes is not None and compared else None,
        failing_evaluations=figures.failing_evaluations,
        critical_high_resources=figures.critical_high_resources,
    )


def rebuilt_entry(report: Report) -> HistoryEntry:
    """A history line recovered from a run's snapshot: its figures and, when stored, its NEW count."""
    entry = entry_for(report)
    statuses = Counter(f.status for f in report.findings())
    if set(statuses) - {None}:
        return replace(entry, new_findings=statuses[FindingStatus.NEW])
    return entry


def counted_once(entry: HistoryEntry) -> bool:
    """False for a line written before resources were counted once (it holds evaluations only)."""
    return entry.noncompliant_resources is not None


def recorded(entries: Iterable[HistoryEntry], entry: HistoryEntry) -> list[HistoryEntry]:
    """`entries` with `entry` added (replacing a line of the same run), oldest first."""
    kept = {e.run_id: e for e in entries}
    kept[entry.run_id] = entry
    return [kept[run_id] for run_id in sorted(kept)]


def trend(
    entries: Iterable[HistoryEntry], *, until: datetime, weeks: int = TREND_WEEKS
) -> tuple[HistoryEntry, ...]:
    """The last `weeks` ISO weeks up to `until`: each week's latest run, oldest first."""
    first_day = _monday(until.date()) - timedelta(weeks=weeks - 1)
    latest: dict[tuple[int, int], HistoryEntry] = {}
    for entry in sorted(entries, key=lambda e: e.run_id):
        day = entry.started_at.date()
        if first_day <= day and entry.started_at <= until:
            year, week, _ = day.isocalendar()
            latest[year, week] = entry
    return tuple(latest[week] for week in sorted(latest))


def trend_start(until: datetime, weeks: int = TREND_WEEKS) -> datetime:
    """The start of the trend's first week (its Monday, 00:00 UTC)."""
    monday = _monday(until.date()) - timedelta(weeks=weeks - 1)
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
