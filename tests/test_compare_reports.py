"""tools/compare_reports.py: two runs' reports are the same when only their run IDs and times differ,
and any other difference in a cell or in the snapshot is found and named."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from compare_reports import main

from config_report.domain.figures import finished
from config_report.domain.model import Report
from config_report.render.xlsx.workbook import write_workbook
from config_report.store.publish import report_file_names
from config_report.store.snapshot import write_snapshot
from factories import PROD, finding, sample_report


def publish(report: Report, folder: Path) -> Path:
    """The run's workbook and snapshot in `folder`, named as a run names them."""
    folder.mkdir()
    names = report_file_names(report.run.run_id)
    write_workbook(report, folder / names.workbook)
    write_snapshot(report, folder / names.snapshot)
    return folder


def rerun(report: Report, minutes: int) -> Report:
    """The same report from a run `minutes` later, with its own run ID."""
    run = report.run
    later = replace(
        run,
        run_id=run.run_id[:-6] + "bbbbbb",
        started_at=run.started_at + timedelta(minutes=minutes),
        finished_at=run.finished_at + timedelta(minutes=minutes),
    )
    return replace(report, run=later)


def test_two_runs_that_differ_only_in_run_id_and_times_are_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = publish(sample_report(), tmp_path / "first")
    second = publish(rerun(sample_report(), minutes=20), tmp_path / "second")

    assert main([str(first), str(second)]) == 0
    assert "same reports" in capsys.readouterr().out


def test_one_finding_more_is_a_difference_named_by_sheet_and_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = publish(sample_report(), tmp_path / "first")
    extra = finding(PROD, "s3-bucket-public-read-prohibited", "one-more-bucket")
    second = publish(finished(rerun(sample_report([extra]), minutes=20)), tmp_path / "second")

    assert main([str(first), str(second)]) == 1
    out = capsys.readouterr().out
    assert "Non-compliant resources" in out
    assert "one-more-bucket" in out
    assert "snapshot figures" in out
