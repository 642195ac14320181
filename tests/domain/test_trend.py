"""The history line of a run and the 12-week trend drawn from the lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config_report.domain.model import HistoryEntry
from config_report.domain.trend import entry_for, recorded, trend
from factories import sample_report

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def entry(started: datetime, resources: int = 10, run: str = "") -> HistoryEntry:
    return HistoryEntry(
        run_id=run or f"{started:%Y%m%dT%H%M%SZ}-000000",
        started_at=started,
        accounts=3,
        noncompliant_resources=resources,
        regions_scanned=4,
        regions_total=5,
        coverage_gaps=1,
    )


def test_a_re_run_replaces_its_own_line_and_lines_stay_in_run_order() -> None:
    first, second = entry(MONDAY - timedelta(weeks=1)), entry(MONDAY)

    assert recorded([second], first) == [first, second]
    assert recorded([first, second], entry(MONDAY, 99, run=second.run_id))[-1].noncompliant_resources == 99


def test_the_trend_keeps_the_last_run_of_each_of_the_last_twelve_weeks() -> None:
    weekly = [entry(MONDAY - timedelta(weeks=n)) for n in range(15)]
    rerun = entry(MONDAY + timedelta(hours=3), 7)

    points = trend([*weekly, rerun], until=MONDAY + timedelta(hours=3))

    assert len(points) == 12
    assert points[0].started_at == MONDAY - timedelta(weeks=11)
    assert points[-1] == rerun


def test_runs_after_the_clock_are_not_in_the_trend() -> None:
    assert trend([entry(MONDAY + timedelta(weeks=1))], until=MONDAY) == ()


def test_a_run_without_a_baseline_records_no_change_counts() -> None:
    line = entry_for(sample_report())

    assert (line.new_findings, line.resolved_findings) == (None, None)
    assert line.coverage == pytest.approx(3 / 5)  # pairs read, as the Summary counts them
