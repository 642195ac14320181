"""The workbook on screen and on paper: charts that never overlap, and every sheet set up to print.

The drawing anchors are read back from the file (xl/drawings/*.xml), as Excel and LibreOffice read them.
Where LibreOffice is installed (CI installs it), the workbook is rendered to PDF the way a person would
print it, and the pages are counted.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from config_report.domain.figures import finished
from config_report.domain.model import AccountScan, Compliance, Coverage, CoverageStatus, Report, RuleResult
from config_report.render.xlsx.workbook import write_workbook
from factories import PROD, finding, run_info, sample_report

_XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SHEETS = ("Summary", "Accounts", "Rules", "Non-compliant resources", "Coverage", "Changes", "Rule catalogue")


@dataclass(frozen=True)
class Anchor:
    """A drawing's rectangle as the file states it: from and to cells, each with an offset in EMU."""

    top: tuple[int, int]
    left: tuple[int, int]
    bottom: tuple[int, int]
    right: tuple[int, int]

    def overlaps(self, other: Anchor) -> bool:
        return (
            self.top < other.bottom
            and other.top < self.bottom
            and self.left < other.right
            and other.left < self.right
        )


def _point(marker: ElementTree.Element, axis: str) -> tuple[int, int]:
    return int(marker.findtext(f"{_XDR}{axis}", "0")), int(marker.findtext(f"{_XDR}{axis}Off", "0"))


def drawing_anchors(path: Path) -> dict[str, list[Anchor]]:
    """Every drawing's anchor, by drawing part."""
    anchors: dict[str, list[Anchor]] = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if re.fullmatch(r"xl/drawings/drawing\d+\.xml", name):
                root = ElementTree.fromstring(archive.read(name))  # noqa: S314 - our own file
                anchors[name] = [
                    Anchor(
                        top=_point(a.find(f"{_XDR}from"), "row"),  # type: ignore[arg-type]
                        left=_point(a.find(f"{_XDR}from"), "col"),  # type: ignore[arg-type]
                        bottom=_point(a.find(f"{_XDR}to"), "row"),  # type: ignore[arg-type]
                        right=_point(a.find(f"{_XDR}to"), "col"),  # type: ignore[arg-type]
                    )
                    for a in root.iter(f"{_XDR}twoCellAnchor")
                ]
    return anchors


def many_rules_report(rules: int = 10) -> Report:
    """A production account failing `rules` rules: the worst-rules chart at its tallest."""
    names = [f"rule-number-{n:02d}-with-a-long-descriptive-name" for n in range(rules)]
    findings = tuple(
        finding(PROD, name, f"bucket-{n}-{k}") for n, name in enumerate(names) for k in range(n + 1)
    )
    return finished(
        Report(
            run=run_info(),
            scans=(
                AccountScan(
                    account=PROD,
                    rules=tuple(
                        RuleResult(PROD.id, "eu-west-1", name, Compliance.NON_COMPLIANT, n + 1)
                        for n, name in enumerate(names)
                    ),
                    findings=findings,
                    coverage=(Coverage(PROD.id, "eu-west-1", CoverageStatus.OK),),
                ),
            ),
        )
    )


@pytest.mark.parametrize("report", [sample_report(), many_rules_report()], ids=["sample", "ten-rules"])
def test_summary_charts_are_drawn_where_no_two_overlap(tmp_path: Path, report: Report) -> None:
    path = write_workbook(report, tmp_path / "report.xlsx")

    (anchors,) = drawing_anchors(path).values()
    assert len(anchors) == 2
    for n, anchor in enumerate(anchors):
        for other in anchors[n + 1 :]:
            assert not anchor.overlaps(other), f"{anchor} overlaps {other}"


def test_summary_charts_stand_right_of_the_summary_text(tmp_path: Path) -> None:
    path = write_workbook(many_rules_report(), tmp_path / "report.xlsx")

    (anchors,) = drawing_anchors(path).values()
    # Columns A-C hold the figures; a chart starting there would hide them.
    assert all(anchor.left[0] >= 4 for anchor in anchors)


def test_summary_rows_have_explicit_heights_so_every_program_anchors_charts_alike(tmp_path: Path) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")

    summary = _sheet_xml(path)["Summary"]
    assert re.search(r'<sheetFormatPr defaultRowHeight="15.75" customHeight="1"', summary)


def test_every_sheet_prints_landscape_one_page_wide_with_a_footer_naming_the_run(tmp_path: Path) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")

    for name, xml in _sheet_xml(path).items():
        assert 'orientation="landscape"' in xml, name
        assert '<pageSetUpPr fitToPage="1"/>' in xml, name
        # fitToWidth defaults to 1 page when absent; fitToHeight 0 lets the rows run on.
        assert "fitToWidth" not in xml, name
        assert 'fitToHeight="0"' in xml, name
        assert f"run {run_info().run_id}" in xml, name
        assert "Page &amp;P of &amp;N" in xml, name


def test_every_data_sheet_repeats_its_header_row_on_each_printed_page(tmp_path: Path) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")

    with zipfile.ZipFile(path) as archive:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314 - our own file
    titles = {
        name.text for name in workbook.iter(f"{_MAIN}definedName") if name.get("name") == "_xlnm.Print_Titles"
    }
    assert titles == {f"'{sheet}'!$1:$1" if " " in sheet else f"{sheet}!$1:$1" for sheet in SHEETS[1:]}


def _sheet_xml(path: Path) -> dict[str, str]:
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with zipfile.ZipFile(path) as archive:
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
        return {
            s.get("name", ""): archive.read("xl/" + targets[s.get(rel)]).decode()
            for s in workbook.iter(f"{_MAIN}sheet")
        }


# --- rendered by LibreOffice -------------------------------------------------------------------------

SOFFICE = shutil.which("soffice")
PDFTOTEXT = shutil.which("pdftotext")
needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None or PDFTOTEXT is None,
    reason="LibreOffice (soffice) or poppler (pdftotext) is not installed; .ci/run installs both",
)


def printed_pages(workbook: Path, out: Path) -> list[str]:
    """The text of each page of the workbook printed to PDF by headless LibreOffice."""
    assert SOFFICE is not None
    assert PDFTOTEXT is not None
    done = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{out / 'profile'}",  # a throwaway profile
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(workbook),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    pdf = out / (workbook.stem + ".pdf")
    # LibreOffice exits 0 even when it could not load the file; a missing PDF is how that shows.
    assert done.returncode == 0, done.stderr
    assert pdf.exists(), f"LibreOffice could not open the workbook: {done.stdout} {done.stderr}"
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    return text.split("\f")[:-1]  # every page ends with a form feed


@needs_libreoffice
def test_libreoffice_opens_the_workbook_and_prints_each_small_sheet_on_one_page(tmp_path: Path) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")

    pages = printed_pages(path, tmp_path)

    # The findings sheet is ~400 characters wide: printed portrait at 100 %, it took four pages.
    assert len(pages) == len(SHEETS)
    for number, page in enumerate(pages, start=1):
        assert f"run {run_info().run_id}" in page
        assert f"Page {number} of {len(pages)}" in page


@needs_libreoffice
def test_libreoffice_prints_a_long_sheet_on_pages_that_each_carry_the_whole_header(tmp_path: Path) -> None:
    extra = tuple(finding(PROD, "s3-bucket-public-read-prohibited", f"website-{n:03d}") for n in range(400))
    path = write_workbook(sample_report(extra), tmp_path / "report.xlsx")

    pages = printed_pages(path, tmp_path)

    findings_pages = [page for page in pages if "website-" in page]
    assert len(findings_pages) >= 2
    for page in findings_pages:
        # One page wide and the header repeated: its first and last column headers are on every page.
        assert "Account ID" in page
        assert "Resource ID" in page
        assert "Normalized Rule Name" in page
