"""The run's stages, in process against the simulated organization: the figures are computed once,
from the finished report, and every output reads that one computation."""

from __future__ import annotations

import gzip
import json
import threading
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from config_report.app.run import Meanwhile, run
from config_report.domain import figures as figures_module
from config_report.domain.model import Figures, Report
from config_report.domain.shelved import shelf_of
from config_report.settings import load_settings
from config_report.simulated import SimulatedOrganization
from config_report.store.bucket import UnreadableObject
from config_report.store.spool import Spool


def test_the_runs_figures_are_computed_once_and_every_output_reads_them(
    simulated_org: SimulatedOrganization, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in simulated_org.client_env().items():
        monkeypatch.setenv(name, value)
    computed: list[str] = []
    compute = figures_module.figures_of

    def counted(report: Report) -> Figures:
        computed.append(report.run.run_id)
        return compute(report)

    monkeypatch.setattr(figures_module, "figures_of", counted)
    accounts = ",".join(a.id for a in simulated_org.seeded.accounts[:3])
    settings = load_settings({"accounts": accounts, "output_dir": str(tmp_path), "log_format": "json"})

    outcome = run(settings, as_json=True)

    figures = outcome.report.figures
    assert computed.count(outcome.report.run.run_id) == 1
    snapshot = json.loads(gzip.decompress(next(tmp_path.glob("*.snapshot.json.gz")).read_bytes()))
    manifest = json.loads(next(tmp_path.glob("*.manifest.json")).read_text())
    summary = CalamineWorkbook.from_path(str(next(tmp_path.glob("*.xlsx")))).get_sheet_by_name("Summary")
    labelled = {row[0]: row[1] for row in summary.to_python() if row and row[0]}
    assert figures.noncompliant_resources > 0
    assert (
        snapshot["figures"]["noncompliant_resources"]
        == manifest["figures"]["noncompliant_resources"]
        == labelled["Non-compliant resources"]
        == figures.noncompliant_resources
    )
    assert snapshot["figures"]["accounts"] == labelled["Accounts in scope"] == 3


def test_a_runs_rules_and_findings_and_last_weeks_are_kept_on_its_spool(
    simulated_org: SimulatedOrganization, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in simulated_org.client_env().items():
        monkeypatch.setenv(name, value)
    accounts = ",".join(a.id for a in simulated_org.seeded.accounts[:3])
    first = tmp_path / "last-week"
    run(load_settings({"accounts": accounts, "output_dir": str(first), "log_format": "json"}), as_json=True)
    baseline = str(next(first.glob("*.snapshot.json.gz")))

    outcome = run(
        load_settings({"accounts": accounts, "baseline": baseline, "log_format": "json"}), as_json=True
    )

    report = outcome.report
    changes = report.changes
    assert changes is not None
    assert changes.baseline.usable
    assert changes.persisting == sum(len(s.findings) for s in report.scans) > 0
    spools = {id(shelf_of(s.findings)) for s in report.scans if s.findings}
    spools |= {id(shelf_of(kept)) for kept in (changes.new, changes.resolved, report.carried)}
    assert len(spools) == 1
    assert all(isinstance(shelf_of(s.findings), Spool) for s in report.scans)
    assert all(shelf_of(s.rules) is shelf_of(s.findings) for s in report.scans)


def test_work_done_meanwhile_runs_in_its_own_thread_and_returns_its_result() -> None:
    with Meanwhile(lambda: threading.current_thread().name, name="baseline") as earlier:
        assert earlier.result().startswith("baseline")


def test_work_done_meanwhile_raises_what_it_raised_when_its_result_is_asked_for() -> None:
    def fails() -> None:
        raise UnreadableObject("s3://reports/x", action="s3:GetObject", reason="AccessDenied")

    with Meanwhile(fails, name="baseline") as earlier, pytest.raises(UnreadableObject, match="AccessDenied"):
        earlier.result()
