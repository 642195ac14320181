"""From a finding to its fix: each row of Non-compliant resources links to its rule's documentation and
to the resource in the AWS Config console, within Excel's hyperlink limit and never as a formula."""

from __future__ import annotations

import posixpath
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import pytest
from python_calamine import CalamineWorkbook

from config_report.domain.figures import finished
from config_report.domain.model import Finding, Report, RuleInfo
from config_report.render.xlsx.workbook import EXCEL_MAX_URL, write_workbook
from factories import PROD, finding, prod_scan, run_info, sandbox_scan
from headers import FINDINGS_HEADER

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_FINDINGS = "Non-compliant resources"
_DOCS, _CONSOLE = FINDINGS_HEADER.index("Rule Docs"), FINDINGS_HEADER.index("Console")
SSH_DOCS = "https://docs.aws.amazon.com/config/latest/developerguide/restricted-ssh.html"


def _documented(report: Report) -> Report:
    """`report` with restricted-ssh known as the AWS managed rule it is (its docs page is known)."""
    info = RuleInfo(source_owner="AWS", source_identifier="INCOMING_SSH_DISABLED")
    scans = tuple(
        replace(
            scan,
            rules=tuple(replace(r, info=info) if r.rule_name == "restricted-ssh" else r for r in scan.rules),
        )
        for scan in report.scans
    )
    return finished(replace(report, scans=scans))


def _report(*extra_findings: Finding) -> Report:
    return _documented(Report(run=run_info(), scans=(prod_scan(extra_findings), sandbox_scan())))


def _rows(path: Path) -> Sequence[Sequence[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(_FINDINGS).to_python()[1:]


def _hyperlinks(path: Path, sheet_name: str) -> dict[str, str]:
    """Each linked cell of a sheet (A1-style) and the URL Excel opens: its target, then `#location`."""
    with zipfile.ZipFile(path) as archive:
        # Parsing XML this test just wrote itself, not untrusted input.
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
        book_rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
        targets = {rel.get("Id"): rel.get("Target", "") for rel in book_rels}
        (sheet,) = [s for s in book.iter(f"{_MAIN}sheet") if s.get("name") == sheet_name]
        sheet_path = "xl/" + targets[sheet.get(f"{_REL}id")]
        rels_path = posixpath.join(
            posixpath.dirname(sheet_path), "_rels", posixpath.basename(sheet_path) + ".rels"
        )
        xml = ElementTree.fromstring(archive.read(sheet_path))  # noqa: S314
        has_rels = rels_path in archive.namelist()
        rels = list(ElementTree.fromstring(archive.read(rels_path))) if has_rels else []  # noqa: S314
    urls = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    links = {}
    for link in xml.iter(f"{_MAIN}hyperlink"):
        url = urls.get(link.get(f"{_REL}id"), "")
        location = link.get("location")
        links[link.get("ref", "")] = f"{url}#{location}" if location else url
    return links


def _column(index: int) -> str:
    return chr(ord("A") + index)


def test_each_finding_links_to_its_rules_docs_and_to_the_resource_in_the_config_console(
    tmp_path: Path,
) -> None:
    path = write_workbook(_report(), tmp_path / "report.xlsx")

    rows = _rows(path)
    links = _hyperlinks(path, _FINDINGS)
    ssh = [(n, row) for n, row in enumerate(rows, start=2) if row[3] == "restricted-ssh"]
    assert len(ssh) == 2
    for number, row in ssh:
        console = (
            f"https://console.aws.amazon.com/config/home?region={row[2]}#/resources/timeline"
            f"?resourceId={row[5]}&resourceType=AWS%3A%3AEC2%3A%3ASecurityGroup"
        )
        assert row[_DOCS] == SSH_DOCS
        assert links[f"{_column(_DOCS)}{number}"] == SSH_DOCS
        # The hostile ID "-2" and "sg-…" need no encoding; the type's colons do.
        assert row[_CONSOLE] == console
        assert links[f"{_column(_CONSOLE)}{number}"] == console
    # A rule the catalogue knows no page for (here: no source read) has no docs link, only its console one.
    bucket = [(n, row) for n, row in enumerate(rows, start=2) if row[3] == "s3-bucket-public-read-prohibited"]
    for number, row in bucket:
        assert row[_DOCS] == ""
        assert f"{_column(_DOCS)}{number}" not in links
        assert str(row[_CONSOLE]).startswith("https://console.aws.amazon.com/config/home?region=eu-west-1#")


def test_past_the_sheets_link_budget_the_urls_are_plain_text_and_no_row_is_lost(tmp_path: Path) -> None:
    whole = write_workbook(_report(), tmp_path / "whole.xlsx")
    budget = write_workbook(_report(), tmp_path / "budget.xlsx", max_links=3)

    assert _rows(budget) == _rows(whole)
    assert len(_hyperlinks(whole, _FINDINGS)) == 6  # two docs links and four console links
    # The first three links in writing order: row 2's console link, then row 3's, then row 4's docs link.
    assert sorted(_hyperlinks(budget, _FINDINGS)) == ["Q4", "R2", "R3"]


def test_a_url_longer_than_excel_keeps_is_written_as_text_not_dropped(tmp_path: Path) -> None:
    long_id = "x" * EXCEL_MAX_URL
    path = tmp_path / "report.xlsx"

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # XlsxWriter warns, and drops the cell, when given such a link
        write_workbook(_report(finding(PROD, "s3-bucket-public-read-prohibited", long_id)), path)

    (row,) = [row for row in _rows(path) if row[5] == long_id]
    assert str(row[_CONSOLE]).endswith(f"resourceId={long_id}&resourceType=AWS%3A%3AS3%3A%3ABucket")
    linked_rows = {int(ref[1:]) for ref in _hyperlinks(path, _FINDINGS) if ref.startswith(_column(_CONSOLE))}
    assert len(linked_rows) == len(_rows(path)) - 1


@pytest.mark.parametrize("max_links", [-1, 65_531])
def test_link_limit_must_stay_within_excel(tmp_path: Path, max_links: int) -> None:
    with pytest.raises(ValueError, match="max_links"):
        write_workbook(_report(), tmp_path / "report.xlsx", max_links=max_links)
