"""`config-report demo`: a newcomer's first report, from a simulated organization, without AWS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from python_calamine import CalamineWorkbook

from config_report.simulated.evolve import THIS_WEEKS_SUFFIX


def demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The demo must not need (or touch) any AWS or config-report setting of the user's.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_REPORT_"))}
    return subprocess.run(
        [sys.executable, "-m", "config_report", "demo", "--output", str(tmp_path / "reports"), *args],
        env=environment | {"AWS_PROFILE": "no-such-profile"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_demo_writes_a_report_and_prints_its_path(tmp_path: Path) -> None:
    done = demo(tmp_path, "--accounts-count", "6")
    assert done.returncode == 0, done.stderr[-2000:]
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("report: ")]
    workbook = Path(line.removeprefix("report: "))
    assert workbook.is_file()
    assert workbook.is_relative_to(tmp_path / "reports")
    book = CalamineWorkbook.from_path(str(workbook))
    assert book.sheet_names == [
        *("Summary", "Accounts", "Rules", "Non-compliant resources", "Coverage", "Changes", "Rule catalogue"),
    ]
    assert len(book.get_sheet_by_name("Accounts").to_python()) == 1 + 6
    coverage = book.get_sheet_by_name("Coverage").to_python()[1:]
    statuses = {row[3] for row in coverage}
    # What a real organization shows, none of it a gap: the run above exited 0.
    assert statuses >= {"OK", "CONFIG_NOT_RECORDING", "REGION_NOT_ENABLED", "DENIED_BY_SCP"}
    accounts = {row[0]: row[1] for row in book.get_sheet_by_name("Accounts").to_python()[1:]}
    detoured = {accounts[row[0]] for row in coverage if "STS is deactivated in eu-west-1" in str(row[5])}
    assert detoured == {"acme-payments-prod"}


def test_the_demo_replays_last_week_so_its_report_shows_changes_and_a_trend(tmp_path: Path) -> None:
    done = demo(tmp_path, "--accounts-count", "6")

    assert done.returncode == 0, done.stderr[-2000:]
    assert (
        "since last week: 2 newly non-compliant resources, 3 no longer (see the Changes sheet)" in done.stdout
    )
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("report: ")]
    book = CalamineWorkbook.from_path(line.removeprefix("report: "))
    changes = book.get_sheet_by_name("Changes").to_python()[1:]
    assert sorted(row[0] for row in changes) == ["NEW", "NEW", "RESOLVED", "RESOLVED", "RESOLVED"]
    summary = [str(row[0]) for row in book.get_sheet_by_name("Summary").to_python()]
    assert any(text.startswith("Compared with the run of") for text in summary)
    trend = summary.index(next(text for text in summary if text.startswith("Trend (last 12 weeks)")))
    assert [text[:2] for text in summary[trend + 1 : trend + 3]] == ["20", "20"]
    redeployed = [
        row for row in book.get_sheet_by_name("Non-compliant resources").to_python()[1:]
        if str(row[3]).startswith("OrgConfigRule-") and str(row[3]).endswith(f"-{THIS_WEEKS_SUFFIX}")
    ]  # fmt: skip
    assert redeployed
    assert {row[9] for row in redeployed} == {"PERSISTING"}


def test_the_demo_can_show_a_denied_account_as_a_coverage_gap(tmp_path: Path) -> None:
    done = demo(tmp_path, "--accounts-count", "6", "--with-denied-account")
    assert done.returncode == 3
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("report: ")]
    book = CalamineWorkbook.from_path(line.removeprefix("report: "))
    coverage = book.get_sheet_by_name("Coverage").to_python()
    assert "ACCESS_DENIED" in {row[3] for row in coverage[1:]}


def test_the_demo_through_the_aggregator_reports_and_rates_the_same_findings_as_verify_shows(
    tmp_path: Path,
) -> None:
    done = demo(tmp_path, "--accounts-count", "6", "--source", "aggregator")

    assert done.returncode == 0, done.stderr[-2000:]
    assert "DIFF" not in done.stdout
    (verdict,) = [line for line in done.stdout.splitlines() if line.startswith(("AGREE", "DIFFER"))]
    assert verdict.startswith("AGREE: the aggregator and the accounts report the same")
    assert "since last week: 2 newly non-compliant resources, 3 no longer" in done.stdout
    # The aggregator names rules only: each is rated as the managed rule whose name it bears.
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("report: ")]
    header, *rows = (
        CalamineWorkbook.from_path(line.removeprefix("report: ")).get_sheet_by_name("Rules").to_python()
    )
    severity = {(row[header.index("Normalized Rule Name")], row[header.index("Severity")]) for row in rows}
    assert ("s3-bucket-public-write-prohibited", "CRITICAL") in severity
    assert ("encrypted-volumes", "MEDIUM") in severity


def test_the_demo_rates_each_rule_and_finding_by_severity_and_says_who_acts_on_each_change(
    tmp_path: Path,
) -> None:
    done = demo(tmp_path, "--accounts-count", "6")

    assert done.returncode == 0, done.stderr[-2000:]
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("report: ")]
    book = CalamineWorkbook.from_path(line.removeprefix("report: "))

    def table(name: str) -> list[dict[str, object]]:
        header, *rows = book.get_sheet_by_name(name).to_python()
        return [dict(zip(map(str, header), row, strict=True)) for row in rows]

    rules = {(r["Normalized Rule Name"], r["Severity"]) for r in table("Rules")}
    assert ("s3-bucket-public-write-prohibited", "CRITICAL") in rules
    assert ("encrypted-volumes", "MEDIUM") in rules
    catalogue = {r["Rule"]: r["Severity"] for r in table("Rule catalogue")}
    assert catalogue["s3-bucket-public-write-prohibited"] == "CRITICAL"
    assert set(catalogue.values()) <= {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNRATED"}
    by_rule = {(r["Account ID"], r["Region"], r["Rule Name"]): r["Severity"] for r in table("Rules")}
    findings = table("Non-compliant resources")
    assert findings
    assert all(f["Severity"] == by_rule[f["Account ID"], f["Region"], f["Rule Name"]] for f in findings)
    changes = table("Changes")
    assert changes
    assert all(c["Severity"] and c["OU"] for c in changes)
    assert any(c["Owner"] for c in changes)
    summary = book.get_sheet_by_name("Summary").to_python()
    labels = [str(row[0]) for row in summary]
    (urgent,) = [row for row in summary if row[0] == "Critical and high"]
    urgent_findings = [f for f in findings if f["Severity"] in ("CRITICAL", "HIGH") and not f["Accepted"]]
    by_resource = {(f["Account ID"], f["Resource Type"], f["Resource ID"]) for f in urgent_findings}
    by_place = {(f["Account ID"], f["Region"], f["Resource Type"], f["Resource ID"]) for f in urgent_findings}
    # Distinct resources: a regional resource per region, a global one once per account.
    assert 0 < len(by_resource) <= float(str(urgent[1])) <= len(by_place)
    worst = labels.index("Worst rules")
    assert [row[2] for row in summary[worst + 1 : worst + 3]] == ["CRITICAL", "CRITICAL"]
