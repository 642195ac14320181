"""The workbook on screen and on paper: charts that never overlap, and every sheet set up to print.

The drawing anchors are read back from the file (xl/drawings/*.xml), as Excel and LibreOffice read them.
Where LibreOffice is installed (CI installs it), the workbook is printed to PDF the way a person would
print it (tools/printed.py), and the pages are read back: their text, the size it prints at, where it
stands.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
from printed import PNG_DPI, demo_workbook, first_page_png, print_pdf
from python_calamine import CalamineWorkbook
from xlsxwriter import Workbook

from config_report.domain.coverage_words import status_words
from config_report.domain.figures import finished
from config_report.domain.model import AccountScan, Compliance, Coverage, CoverageStatus, Report, RuleResult
from config_report.render.xlsx.layout import (
    LEGIBLE_POINTS,
    SUMMARY_SMALLEST_POINTS,
    ChartStack,
    PrintedRows,
    print_summary,
)
from config_report.render.xlsx.workbook import write_workbook
from factories import PROD, finding, run_info, sample_report
from printed_pdf import Word, page_words, text_sizes

_XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RUN_ID = r"\d{8}T\d{6}Z-[0-9a-f]{6}"
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


def test_every_sheet_prints_landscape_with_a_footer_naming_the_run_the_sheet_and_the_page(
    tmp_path: Path,
) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")

    for name, xml in _sheet_xml(path).items():
        assert 'orientation="landscape"' in xml, name
        assert f"run {run_info().run_id}&amp;C&amp;A&amp;RPage &amp;P of &amp;N" in xml, name


def test_every_table_prints_one_page_wide_and_as_many_pages_long_as_it_runs(tmp_path: Path) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")

    for name, xml in _sheet_xml(path).items():
        if name != "Summary":
            assert '<pageSetUpPr fitToPage="1"/>' in xml, name
            # fitToWidth defaults to 1 page when absent; fitToHeight 0 lets the rows run on.
            assert "fitToWidth" not in xml, name
            assert 'fitToHeight="0"' in xml, name


def test_the_summary_prints_at_a_fixed_scale_its_smallest_text_stays_legible_at(tmp_path: Path) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")

    summary = _sheet_xml(path)["Summary"]
    # Fit to width would choose its own scale and page breaks, and cut the Summary's tables.
    assert "fitToPage" not in summary
    scale = re.search(r'<pageSetup[^>]* scale="(\d+)"', summary)
    assert scale is not None
    assert int(scale.group(1)) * SUMMARY_SMALLEST_POINTS / 100 >= LEGIBLE_POINTS


def test_every_data_sheet_repeats_its_header_row_on_each_printed_page(tmp_path: Path) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")

    with zipfile.ZipFile(path) as archive:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314 - our own file
    titles = {
        name.text for name in workbook.iter(f"{_MAIN}definedName") if name.get("name") == "_xlnm.Print_Titles"
    }
    assert titles == {f"'{sheet}'!$1:$1" if " " in sheet else f"{sheet}!$1:$1" for sheet in SHEETS[1:]}


def test_summary_columns_too_wide_to_print_legibly_are_refused(tmp_path: Path) -> None:
    book = Workbook(str(tmp_path / "wide.xlsx"))
    sheet = book.add_worksheet("Summary")

    # A column someone widens must make another narrower: the page would otherwise shrink the text.
    with pytest.raises(ValueError, match=r"print at 6[0-9] %, below 70 %"):
        print_summary(
            sheet,
            run_id=run_info().run_id,
            column_widths=(70, 24, 28, 14, 18),
            charts=ChartStack(sheet, row=0, col=5),
            rows=PrintedRows(),
            end=10,
        )
    book.close()


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


# --- printed by LibreOffice -------------------------------------------------------------------------

SOFFICE = shutil.which("soffice")
PDFTOTEXT = shutil.which("pdftotext")
needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None or PDFTOTEXT is None,
    reason="LibreOffice (soffice) or poppler (pdftotext) is not installed; .ci/run installs both",
)
_FOOTER = re.compile(rf"run {RUN_ID}\s+(.+?)\s+Page (\d+) of (\d+)")


def page_texts(pdf: Path) -> list[str]:
    """The text of each page of `pdf`, laid out as printed."""
    assert PDFTOTEXT is not None
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    return text.split("\f")[:-1]  # every page ends with a form feed


def printed_pages(workbook: Path, out: Path) -> list[str]:
    """The text of each page of the workbook printed to PDF by headless LibreOffice."""
    return page_texts(print_pdf(workbook, out))


def sheet_of(page: str) -> str:
    """The sheet a printed page belongs to, from its footer."""
    footer = _FOOTER.search(page)
    assert footer is not None, page[-300:]
    return footer.group(1)


@dataclass(frozen=True)
class PrintedDemo:
    """The demo's workbook, printed: the PDF, each page's text, and the Summary's cells."""

    pdf: Path
    pages: list[str]
    summary: Sequence[Sequence[object]]

    def summary_pages(self) -> list[int]:
        return [n for n, page in enumerate(self.pages) if sheet_of(page) == "Summary"]


@pytest.fixture(scope="module")
def printed_demo(tmp_path_factory: pytest.TempPathFactory) -> PrintedDemo:
    """The demo (six accounts: changes, a trend, owners, broken regions), printed by LibreOffice."""
    folder = tmp_path_factory.mktemp("printed-demo")
    workbook = demo_workbook(folder / "demo", accounts=6)
    pdf = print_pdf(workbook, folder)
    summary = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name("Summary").to_python()
    return PrintedDemo(pdf, page_texts(pdf), summary)


@needs_libreoffice
def test_no_printed_sheet_has_text_smaller_than_7_points_on_its_first_page(printed_demo: PrintedDemo) -> None:
    sizes = text_sizes(printed_demo.pdf)
    first_pages: dict[str, int] = {}
    for number, page in enumerate(printed_demo.pages):
        first_pages.setdefault(sheet_of(page), number)

    assert set(first_pages) == set(SHEETS)
    smallest = {sheet: round(min(sizes[number]), 2) for sheet, number in first_pages.items()}
    # Before, the findings sheet printed one page wide with all its columns: 3 points.
    assert {sheet: size for sheet, size in smallest.items() if size < LEGIBLE_POINTS} == {}


@needs_libreoffice
def test_a_table_too_wide_for_a_legible_page_prints_its_leading_columns_and_says_so(
    printed_demo: PrintedDemo,
) -> None:
    findings = [page for page in printed_demo.pages if sheet_of(page) == "Non-compliant resources"]
    printed = ["Account ID", "Account Name", "Region", "Rule Name", "Resource Type", "Resource ID"]

    assert findings
    for page in findings:
        # Every page holds whole rows of the columns that say what fails where, and says what it leaves out.
        assert re.search(
            r"Printed: Account ID to Resource ID, 6 of \d+ columns; the workbook holds them all", page
        )
        (header,) = [line for line in page.splitlines() if "Account ID" in line and "Printed" not in line]
        assert re.split(r"\s{2,}", header.strip()) == printed
        assert "Annotation" not in page


@needs_libreoffice
def test_summary_notes_print_whole_wrapped_beside_their_figures(printed_demo: PrintedDemo) -> None:
    printed = Counter(word for n in printed_demo.summary_pages() for word in printed_demo.pages[n].split())
    notes = [
        str(row[2])
        for row in printed_demo.summary
        if len(row) > 2 and isinstance(row[2], str) and row[1] != ""
    ]
    written = Counter(word for note in notes if note for word in note.split())

    assert status_words(CoverageStatus.CONFIG_RECORDER_FAILING).note in notes
    # Before, a note ran into the change column and was cut there ("…stale, not").
    assert written - printed == Counter()


@needs_libreoffice
def test_the_trend_table_headers_print_apart(printed_demo: PrintedDemo) -> None:
    words = page_words(printed_demo.pdf)
    (page,) = [n for n in printed_demo.summary_pages() if "Trend (last 12 weeks)" in printed_demo.pages[n]]
    (line,) = _lines_with(words[page], "Trend")
    headers = [word.text for word in line]

    assert headers[headers.index("weeks):") :] == [
        *("weeks):", "week", "of", "the", "run", "Non-compliant", "resources", "Coverage", "(pairs", "read)"),
        *("Critical", "and", "high"),
    ]
    # Before, one header ended where the next began: "Non-compliant resourcesCoverage (pairs read)".
    for left, right in (("resources", "Coverage"), ("read)", "Critical")):
        ends, starts = line[headers.index(left)], line[headers.index(right)]
        assert starts.left - ends.right > 2 * (starts.bottom - starts.top)  # a few characters


@needs_libreoffice
@pytest.mark.parametrize("title", ["Worst rules", "Worst accounts", "By owner", "By OU"])
def test_a_summary_table_prints_on_one_page_with_its_header(printed_demo: PrintedDemo, title: str) -> None:
    labels = [str(row[0]) for row in printed_demo.summary]
    first = labels.index(title)
    rows = labels[first + 1 : labels.index("", first)]
    (page,) = [
        n for n in printed_demo.summary_pages() if re.search(rf"^{title} ", printed_demo.pages[n], re.M)
    ]

    assert rows
    lines = printed_demo.pages[page].splitlines()
    assert [row for row in rows if not any(line.startswith(row) for line in lines)] == []


@needs_libreoffice
def test_the_readme_picture_is_the_summary_s_first_printed_page(
    printed_demo: PrintedDemo, tmp_path: Path
) -> None:
    png = first_page_png(printed_demo.pdf, tmp_path / "summary.png")

    assert sheet_of(printed_demo.pages[0]) == "Summary"
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    # A4 landscape at the picture's resolution: every word of the page at a size a reader can zoom into.
    assert (width, height) == (math.ceil(297 / 25.4 * PNG_DPI), math.ceil(210 / 25.4 * PNG_DPI))


def _lines_with(words: list[Word], text: str) -> list[list[Word]]:
    """The printed lines (words at the same height) holding a word `text`, each left to right."""
    tops = {round(word.top) for word in words if word.text == text}
    return [sorted((w for w in words if round(w.top) == top), key=lambda w: w.left) for top in tops]


@needs_libreoffice
def test_libreoffice_opens_the_workbook_and_prints_each_small_table_on_one_page(tmp_path: Path) -> None:
    path = write_workbook(sample_report(), tmp_path / "report.xlsx")

    pages = printed_pages(path, tmp_path)

    # The findings sheet is ~400 characters wide: printed portrait at 100 %, it took four pages.
    assert [sheet_of(page) for page in pages if sheet_of(page) != "Summary"] == list(SHEETS[1:])
    for number, page in enumerate(pages, start=1):
        assert f"run {run_info().run_id}" in page
        assert f"Page {number} of {len(pages)}" in page


@needs_libreoffice
def test_libreoffice_prints_a_long_sheet_on_pages_that_each_carry_the_header(tmp_path: Path) -> None:
    extra = tuple(finding(PROD, "s3-bucket-public-read-prohibited", f"website-{n:03d}") for n in range(400))
    path = write_workbook(sample_report(extra), tmp_path / "report.xlsx")

    pages = printed_pages(path, tmp_path)

    findings_pages = [page for page in pages if "website-" in page]
    assert len(findings_pages) >= 2
    for page in findings_pages:
        # One page wide and the header repeated: its first and last printed column headers on every page.
        assert "Account ID" in page
        assert "Resource ID" in page
