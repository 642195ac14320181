"""The workbook, read back the way a person's spreadsheet would: sheets, headers, cells, types, charts."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from python_calamine import CalamineWorkbook

from config_report.domain.changes import compare
from config_report.domain.figures import finished
from config_report.domain.model import Baseline, Compliance, Report
from config_report.errors import PublishError
from config_report.render.xlsx.cells import EXCEL_MAX_CELL_CHARS, TRUNCATION_MARKER, fit_cell_text
from config_report.render.xlsx.workbook import EXCEL_MAX_ROWS, write_workbook
from factories import (
    DENIED,
    HOSTILE_STRINGS,
    PROD,
    SANDBOX,
    STARTED,
    finding,
    prod_scan,
    run_info,
    sample_report,
    sandbox_scan,
)
from headers import FINDINGS_HEADER, HEADERS, SHEETS

Sheets = dict[str, Sequence[Sequence[object]]]

DATA_SHEETS = ("Accounts", "Rules", "Non-compliant resources", "Coverage", "Changes")

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def write_and_read(tmp_path: Path, report: Report, **options: int) -> Sheets:
    path = write_workbook(finished(report), tmp_path / "report.xlsx", **options)
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def sheet_xml(path: Path) -> dict[str, str]:
    """Each sheet's raw XML by sheet name, found the way Excel finds it (workbook.xml and its rels)."""
    with zipfile.ZipFile(path) as archive:
        # Parsing XML this test just wrote itself, not untrusted input.
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
        targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
        return {
            sheet.get("name", ""): archive.read("xl/" + targets[sheet.get(f"{_REL}id")]).decode()
            for sheet in workbook.iter(f"{_MAIN}sheet")
        }


def summary_figures(sheets: Sheets) -> dict[object, object]:
    return {row[0]: row[1] for row in sheets["Summary"] if row[0]}


def test_sheets_come_in_contract_order_with_exact_headers(tmp_path: Path) -> None:
    sheets = write_and_read(tmp_path, sample_report())

    assert list(sheets) == SHEETS
    assert {name: sheets[name][0] for name in HEADERS} == HEADERS


def test_every_finding_is_one_row_with_the_account_name_beside_its_id(tmp_path: Path) -> None:
    sheets = write_and_read(tmp_path, sample_report())

    assert [row[:8] for row in sheets["Non-compliant resources"][1:]] == [
        [PROD.id, PROD.name, "eu-west-1", "s3-bucket-public-read-prohibited", "AWS::S3::Bucket", "+1",
         '=HYPERLINK("http://x","y")', datetime(2026, 11, 22, 17, 45, 12)],
        [PROD.id, PROD.name, "eu-west-1", "s3-bucket-public-read-prohibited", "AWS::S3::Bucket", "0123",
         "=1+1", datetime(2026, 11, 22, 17, 45, 12)],
        [PROD.id, PROD.name, "us-east-1", "restricted-ssh", "AWS::EC2::SecurityGroup", "-2",
         "@SUM(A1)", ""],
        [SANDBOX.id, SANDBOX.name, "eu-west-1", "restricted-ssh", "AWS::EC2::SecurityGroup",
         "sg-0a1b2c3d4e5f", "ünïcödé ✓ 日本語 🚀", datetime(2026, 11, 22, 9, 0)],
    ]  # fmt: skip


def test_rules_carry_config_compliance_words_and_counts_as_numbers(tmp_path: Path) -> None:
    sheets = write_and_read(tmp_path, sample_report())

    assert [row[:6] for row in sheets["Rules"][1:]] == [
        [PROD.id, PROD.name, "eu-west-1", "s3-bucket-public-read-prohibited", "NON_COMPLIANT", 2.0],
        [PROD.id, PROD.name, "eu-west-1", "encrypted-volumes", "COMPLIANT", 0.0],
        [PROD.id, PROD.name, "us-east-1", "restricted-ssh", "NON_COMPLIANT", 1.0],
        [PROD.id, PROD.name, "us-east-1", "iam-root-access-key-check", "INSUFFICIENT_DATA", 0.0],
        [SANDBOX.id, SANDBOX.name, "eu-west-1", "restricted-ssh", "NON_COMPLIANT", 1.0],
        [SANDBOX.id, SANDBOX.name, "eu-west-1", "encrypted-volumes", "NOT_APPLICABLE", 0.0],
    ]


def test_denied_account_is_listed_with_its_reason_not_dropped(tmp_path: Path) -> None:
    sheets = write_and_read(tmp_path, sample_report())

    coverage = sheets["Coverage"][1:]
    assert [row[:4] for row in coverage] == [
        [PROD.id, PROD.name, "eu-west-1", "OK"],
        [PROD.id, PROD.name, "us-east-1", "OK"],
        [SANDBOX.id, SANDBOX.name, "eu-west-1", "OK"],
        [SANDBOX.id, SANDBOX.name, "us-east-1", "CONFIG_NOT_ENABLED"],
        [DENIED.id, DENIED.name, "all regions", "ACCESS_DENIED"],
    ]
    assert str(coverage[-1][4]).startswith("The report's access was refused")
    assert str(coverage[-1][5]).startswith("AccessDenied: not authorized to perform sts:AssumeRole")
    accounts = {row[0]: row for row in sheets["Accounts"][1:]}
    assert set(accounts) == {PROD.id, SANDBOX.id, DENIED.id}
    assert accounts[DENIED.id][:4] == [DENIED.id, DENIED.name, DENIED.ou, "ACCESS_DENIED"]
    assert accounts[PROD.id][3] == "OK"


def test_account_ids_stay_text_with_their_leading_zeros(tmp_path: Path) -> None:
    sheets = write_and_read(tmp_path, sample_report())

    for name in DATA_SHEETS:
        ids = [row[0] for row in sheets[name][1:]]
        assert all(isinstance(account_id, str) and len(account_id) == 12 for account_id in ids), name
    assert "012345678901" in [row[0] for row in sheets["Accounts"]]
    assert "000000000042" in [row[0] for row in sheets["Coverage"]]


def test_hostile_strings_stay_text_and_no_sheet_holds_a_formula(tmp_path: Path) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")
    book = CalamineWorkbook.from_path(str(path))
    findings = book.get_sheet_by_name("Non-compliant resources").to_python()

    written = {cell for row in findings[1:] for cell in row[5:7]}
    assert set(HOSTILE_STRINGS) <= written
    for name, xml in sheet_xml(path).items():
        assert not re.search(r"<f[ >]", xml), f"{name} holds a formula"


def test_control_characters_and_edge_whitespace_survive_as_written(tmp_path: Path) -> None:
    awkward = " bell\x07, tab\t, new line\n and a literal _x0041_ escape "
    extra = finding(PROD, "s3-bucket-public-read-prohibited", "awkward-bucket", annotation=awkward)

    sheets = write_and_read(tmp_path, sample_report(extra_findings=[extra]))

    assert sheets["Non-compliant resources"][3][6] == awkward


def test_annotation_longer_than_excel_allows_is_cut_with_a_visible_marker(tmp_path: Path) -> None:
    long_annotation = "The bucket policy allows public reads. " * 1100  # about 42,900 characters
    extra = finding(PROD, "s3-bucket-public-read-prohibited", "wide-open-bucket", annotation=long_annotation)

    sheets = write_and_read(tmp_path, sample_report(extra_findings=[extra]))

    cell = str(sheets["Non-compliant resources"][3][6])
    assert len(long_annotation) > 40_000
    assert cell.endswith(TRUNCATION_MARKER)
    assert len(cell) <= EXCEL_MAX_CELL_CHARS
    assert long_annotation.startswith(cell.removesuffix(TRUNCATION_MARKER))


def test_cut_counts_characters_as_excel_does_in_utf16_units() -> None:
    rockets = "🚀" * 20_000  # 20,000 characters but 40,000 UTF-16 units

    cut = fit_cell_text(rockets)

    assert cut.endswith(TRUNCATION_MARKER)
    assert len(cut.encode("utf-16-le")) // 2 <= EXCEL_MAX_CELL_CHARS
    assert set(cut.removesuffix(TRUNCATION_MARKER)) == {"🚀"}  # no half of a surrogate pair left behind


def test_text_that_exactly_fits_a_cell_is_kept_whole() -> None:
    assert fit_cell_text("x" * EXCEL_MAX_CELL_CHARS) == "x" * EXCEL_MAX_CELL_CHARS


def test_table_past_the_row_limit_continues_on_numbered_sheets_each_with_its_header(tmp_path: Path) -> None:
    extra = [finding(PROD, "s3-bucket-public-read-prohibited", f"bucket-{n}") for n in range(9)]
    report = sample_report(extra_findings=extra)
    whole = write_and_read(tmp_path, report)

    split = write_and_read(tmp_path, report, max_rows=5)

    assert list(split) == [
        "Summary",
        "Accounts",
        "Rules",
        "Rules (2)",
        "Non-compliant resources",
        "Non-compliant resources (2)",
        "Non-compliant resources (3)",
        "Non-compliant resources (4)",
        "Coverage",
        "Coverage (2)",
        "Changes",
        "Rule catalogue",
    ]
    assert all(len(name) <= 31 for name in split)  # Excel's limit for a sheet name
    pages = [name for name in split if name.startswith("Non-compliant resources")]
    assert all(split[page][0] == FINDINGS_HEADER for page in pages)
    assert all(len(split[page]) <= 5 for page in pages)
    assert [row for page in pages for row in split[page][1:]] == whole["Non-compliant resources"][1:]
    assert len(whole["Non-compliant resources"]) - 1 == 13


def test_table_that_exactly_fills_a_sheet_does_not_spill_onto_an_empty_one(tmp_path: Path) -> None:
    sheets = write_and_read(tmp_path, sample_report(), max_rows=4)  # header + the three accounts

    assert "Accounts (2)" not in sheets
    assert len(sheets["Accounts"]) == 4


@pytest.mark.parametrize("max_rows", [1, EXCEL_MAX_ROWS + 1])
def test_row_limit_must_leave_room_for_a_row_and_stay_within_excel(tmp_path: Path, max_rows: int) -> None:
    with pytest.raises(ValueError, match="max_rows"):
        write_workbook(sample_report(), tmp_path / "report.xlsx", max_rows=max_rows)


def test_last_evaluated_is_an_excel_date_in_utc_and_blank_when_unknown(tmp_path: Path) -> None:
    sheets = write_and_read(tmp_path, sample_report())

    dates = [row[7] for row in sheets["Non-compliant resources"][1:]]
    # 10:00 in Paris (UTC+1) is 09:00 UTC; calamine returns a datetime only for a date-formatted number.
    assert dates == [
        datetime(2026, 11, 22, 17, 45, 12),
        datetime(2026, 11, 22, 17, 45, 12),
        "",
        datetime(2026, 11, 22, 9),
    ]


def test_data_sheets_freeze_the_header_filter_every_row_and_set_column_widths(tmp_path: Path) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")
    xml = sheet_xml(path)

    expected_filters = {
        "Accounts": "A1:L4",
        "Rules": "A1:O7",
        "Non-compliant resources": "A1:R5",
        "Coverage": "A1:F6",
    }
    for name, ref in expected_filters.items():
        assert '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' in xml[name]
        assert f'<autoFilter ref="{ref}"/>' in xml[name]
        assert 'customWidth="1"' in xml[name]


def test_summary_gives_headline_figures_coverage_and_the_worst_rules_and_accounts(tmp_path: Path) -> None:
    sheets = write_and_read(tmp_path, sample_report())
    summary = sheets["Summary"]
    figures = summary_figures(sheets)

    assert summary[0][0] == "AWS Config compliance report — 23 November 2026"
    assert str(summary[1][0]).startswith("Coverage incomplete: 1 account-region pair(s) could not be read")
    assert figures["Accounts in scope"] == 3.0
    assert figures["Accounts fully scanned"] == 2.0
    assert figures["Non-compliant resources"] == 4.0
    assert figures["Non-compliant rules"] == 3.0
    assert figures["Compliant rules"] == 1.0
    assert figures["Other rules"] == 2.0
    assert figures["Read"] == 3.0
    assert figures["AWS Config not enabled"] == 1.0
    assert figures["Could not be read (access denied or error)"] == 1.0
    assert figures["restricted-ssh"] == 2.0
    assert figures["Prod Payments (012345678901)"] == 3.0
    footnote = " ".join(str(row[0]) for row in summary[-3:])
    assert run_info().run_id in footnote
    assert run_info().identity in footnote
    assert "Generated 2026-11-23 09:07 UTC" in footnote


def test_summary_charts_plot_cells_of_the_summary_itself(tmp_path: Path) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")

    with zipfile.ZipFile(path) as archive:
        charts = [archive.read(name).decode() for name in archive.namelist() if name.startswith("xl/charts/")]
    assert len(charts) == 2
    assert all("<c:f>Summary!$B$" in chart for chart in charts)
    assert "<c:doughnutChart>" in charts[0]
    assert "<c:barChart>" in charts[1]
    assert "<drawing " in sheet_xml(path)["Summary"]


def test_summary_says_coverage_is_complete_when_every_region_was_read(tmp_path: Path) -> None:
    sheets = write_and_read(tmp_path, Report(run=run_info(), scans=(prod_scan(),)))

    assert sheets["Summary"][1][0] == "Coverage complete: every account and region in scope was read."
    assert summary_figures(sheets)["Accounts fully scanned"] == 1.0


def test_summary_never_claims_every_region_was_read_when_some_hold_no_config_results(tmp_path: Path) -> None:
    # The sandbox has Config off in one region: a state of the account, not a gap, yet nothing was read.
    sheets = write_and_read(tmp_path, Report(run=run_info(), scans=(prod_scan(), sandbox_scan())))

    headline = str(sheets["Summary"][1][0])
    assert headline.startswith("Coverage complete: every account was read; 1 of 4 account-region pairs")
    assert "every account and region in scope was read" not in headline
    assert summary_figures(sheets)["AWS Config not enabled"] == 1.0


def test_empty_organization_still_gives_every_sheet_its_header(tmp_path: Path) -> None:
    sheets = write_and_read(tmp_path, Report(run=run_info(), scans=()))

    assert list(sheets) == ["Summary", *DATA_SHEETS, "Rule catalogue"]
    assert [len(sheets[name]) for name in DATA_SHEETS] == [1, 1, 1, 1, 1]
    assert summary_figures(sheets)["Accounts in scope"] == 0.0
    assert "No non-compliant resources." in summary_figures(sheets)


def test_unwritable_destination_is_a_publish_error(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="could not write the workbook"):
        write_workbook(sample_report(), tmp_path / "missing-folder" / "report.xlsx")


def test_changes_sheet_lists_new_then_resolved_with_first_seen_and_age(tmp_path: Path) -> None:
    fixed = finding(PROD, "s3-bucket-public-read-prohibited", "fixed-bucket")
    fresh = finding(PROD, "s3-bucket-public-read-prohibited", "fresh-bucket")
    before = sample_report(extra_findings=[fixed])
    last_week = replace(
        before,
        run=replace(
            before.run, run_id="20261116T090000Z-aaaaaa", started_at=before.run.started_at - timedelta(days=7)
        ),
    )
    baseline = Baseline("s3://b/k", last_week.run.run_id, last_week.run.started_at, last_week.figures)
    sheets = write_and_read(tmp_path, compare(sample_report(extra_findings=[fresh]), last_week, baseline))

    assert [(row[0], row[6], str(row[12]), row[13]) for row in sheets["Changes"][1:]] == [
        ("NEW", "fresh-bucket", "2026-11-23", 0.0),
        ("RESOLVED", "fixed-bucket", "2026-11-16", 7.0),
    ]
    statuses = {row[5]: (row[9], str(row[10]), row[11]) for row in sheets["Non-compliant resources"][1:]}
    assert statuses["fresh-bucket"] == ("NEW", "2026-11-23", 0.0)
    assert statuses["+1"] == ("PERSISTING", "2026-11-16", 7.0)
    summary = {row[0]: row for row in sheets["Summary"] if row[0]}
    assert summary["Headline figures"][3] == "Since 16 Nov"
    assert summary["Non-compliant resources"][3] == 0.0  # one fixed, one new
    assert summary["Newly non-compliant resources"][1] == 1.0
    assert summary["Resources no longer non-compliant"][1] == 1.0
    assert summary["New failing evaluations"][1] == 1.0
    assert summary["Resolved failing evaluations"][1] == 1.0
    # Each ranking shows its groups' changes, counted like the headline's.
    assert summary["Worst rules"][3] == summary["Worst accounts"][3] == "Since 16 Nov"
    assert summary[f"{PROD.name} ({PROD.id})"][3] == 0.0  # the account had one fixed, one new


def test_accounts_are_listed_least_compliant_first_with_their_share_and_its_change(tmp_path: Path) -> None:
    fixed = finding(PROD, "s3-bucket-public-read-prohibited", "fixed-bucket")
    before = sample_report(extra_findings=[fixed])
    prod, *others = before.scans
    # Last week the production bucket rule passed: the account's share was 2 of 3, this week 1 of 3.
    passing = tuple(
        replace(r, compliance=Compliance.COMPLIANT, noncompliant_resources=0)
        if r.rule_name == "s3-bucket-public-read-prohibited"
        else r
        for r in prod.rules
    )
    last_week = replace(
        before,
        scans=(replace(prod, rules=passing, findings=()), *others),
        run=replace(before.run, run_id="20261116T090000Z-aaaaaa", started_at=STARTED - timedelta(days=7)),
    )
    baseline = Baseline("s3://b/k", last_week.run.run_id, last_week.run.started_at, last_week.figures)
    sheets = write_and_read(tmp_path, compare(sample_report(), last_week, baseline))

    header, *rows = sheets["Accounts"]
    table = [dict(zip(header, row, strict=True)) for row in rows]
    shares = [(r["Account ID"], r["Compliance Share"], r["Compliance Share Change"]) for r in table]
    # The sandbox judged one rule, failing: 0 %, unchanged; the production account lost a third.
    assert shares[:2] == [
        (SANDBOX.id, 0.0, 0.0),
        (PROD.id, pytest.approx(1 / 3), pytest.approx(1 / 3 - 2 / 3)),
    ]
    assert shares[2] == (DENIED.id, "", ""), "an account not read has no share, never 0 %"
