"""The streamed sheet writes exactly what XlsxWriter writes, for every kind of cell the report could hold."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from config_report.render.xlsx.streamsheet import CellValue, LinkCell, StreamedSheet
from factories import HOSTILE_STRINGS

AWKWARD_TEXT = (
    *HOSTILE_STRINGS,
    "",
    "plain text",
    " leading space",
    "trailing space ",
    "\ttab first",
    "last line\n",
    "two\nlines",
    "no-break\u00a0space at the end\u00a0",
    "bell\x07 and carriage return\r",
    "a literal _x0041_ escape",
    "snake_xylophone_x12_: _x but no escape",
    "upper _X0041_ and not hex _x004G_",
    "<r><t>not rich</t></r>",
    "AT&T <script>",
    "https://console.aws.amazon.com/config/home?region=eu-west-1#/resources/timeline?resourceId=a%2Fb&resourceType=AWS%3A%3AS3%3A%3ABucket",
    "<r>starts rich & ends plain",
    "< only escapes > & nothing else",
    "greater > than",
    'say "quoted"',
    "\ufffe and \uffff",
    "x" * 40_000,
)
NUMBERS = (0, -1, 1.5, 1 / 3, 10**20, 2**53 + 1)
MOMENTS = (datetime(2026, 11, 22, 17, 45, 12, 345678), date(2026, 11, 23), datetime(1900, 1, 1, 6))


def _write(path: Path, sheet_class: type[Worksheet]) -> bytes:
    """Every awkward value, styled and not, in a plain column, a styled column and a styled row."""
    with Workbook(path, {"constant_memory": True, "strings_to_formulas": False}) as book:
        bold = book.add_format({"bold": True})
        when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        sheet = book.add_worksheet("Cells", sheet_class)
        sheet.set_column(2, 2, 20, bold)  # a column format styles the unstyled cells below it
        row = 0
        for value in (*AWKWARD_TEXT, *NUMBERS, *MOMENTS):
            if row == 3:
                sheet.set_row(row, None, bold)  # so does a row format
            for col, style in ((0, None), (1, bold), (2, None), (70, None)):
                if isinstance(value, str):
                    sheet.write_string(row, col, value, style)
                elif isinstance(value, date):
                    sheet.write_datetime(row, col, value, style or when)
                else:
                    sheet.write_number(row, col, value, style)
            row += 1
        sheet.write_formula(row, 0, "=1+1")
        sheet.write_url(row, 1, "https://docs.aws.amazon.com/config/", string="=1+1")
        sheet.write_blank(row, 2, None, bold)
        sheet.write_boolean(row, 3, True)
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_streamed_sheet_writes_the_same_bytes_as_xlsxwriter_for_every_kind_of_cell(tmp_path: Path) -> None:
    ours = _write(tmp_path / "streamed.xlsx", StreamedSheet)
    theirs = _write(tmp_path / "xlsxwriter.xlsx", Worksheet)

    assert b"&lt;script&gt;" in ours  # the awkward cells really are in the file
    assert b"_x005F_x0041_" in ours
    assert ours == theirs


def test_xlsxwriter_still_writes_cells_through_the_method_the_streamed_sheet_replaces(tmp_path: Path) -> None:
    written: list[tuple[int, int]] = []

    class CountingSheet(StreamedSheet):
        def _write_cell(self, row: int, col: int, cell: object) -> None:
            written.append((row, col))
            super()._write_cell(row, col, cell)

    _write(tmp_path / "counted.xlsx", CountingSheet)

    assert (0, 0) in written
    assert len(written) > len(AWKWARD_TEXT) * 4


LINKS = (
    LinkCell("https://console.aws.amazon.com/config/home?region=eu-west-1#/rules", "restricted-ssh"),
    LinkCell("internal:'Rule catalogue'!A7", "s3-bucket-ssl-requests-only"),
    LinkCell("https://example.com/a&b", "AT&T <script>"),
    LinkCell("https://example.com/", " edge space"),
)


def _rows(bold: Format) -> list[list[tuple[int, CellValue, Format | None]]]:
    """Table rows as the workbook writes them: each awkward value beside plain ones, a link in some."""
    values: tuple[CellValue, ...] = (*AWKWARD_TEXT, *NUMBERS, *MOMENTS, *LINKS)
    rows = []
    for index, value in enumerate(values):
        link = LINKS[index % len(LINKS)]
        rows.append(
            [
                (0, f"arn:aws:s3:::bucket-{index}", None),
                (1, value, bold if index % 3 else None),
                (3, datetime(2026, 11, 23, 9, index % 60), None),
                (4, index, None),
                (5, link if index % 2 else "no link", bold),
                (70, "far right", None) if index == 7 else (6, "", bold if index % 5 else None),
            ]
        )
    return rows


def _write_rows(path: Path, sheet_class: type[Worksheet], *, by_row: bool) -> dict[str, bytes]:
    """`_rows` under a header, through `write_cells` or cell by cell with XlsxWriter's public methods."""
    with Workbook(path, {"constant_memory": True, "strings_to_formulas": False}) as book:
        bold = book.add_format({"bold": True})
        sheet = book.add_worksheet("Findings", sheet_class)
        sheet.set_column(6, 6, 20, bold)  # a column format styles the unstyled cells below it
        # Styles are numbered in the order the cells using them are written: the header's comes first.
        sheet.write_string(0, 0, "Header", book.add_format({"italic": True}))
        for row, cells in enumerate(_rows(bold), start=1):
            if row == 5:
                sheet.set_row(row, None, bold)  # so does a row format
            if by_row:
                sheet.write_cells(row, cells)
                continue
            for col, value, style in cells:
                if isinstance(value, LinkCell):
                    sheet.write_url(row, col, value.target, style, value.text)
                elif isinstance(value, str):
                    sheet.write_string(row, col, value, style)  # `write` would leave "" blank
                else:
                    sheet.write(row, col, value, style)  # a number or a date, by its type
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if "worksheets" in name}


def test_a_row_written_whole_is_the_same_bytes_as_xlsxwriter_writing_it_cell_by_cell(tmp_path: Path) -> None:
    ours = _write_rows(tmp_path / "rows.xlsx", StreamedSheet, by_row=True)
    theirs = _write_rows(tmp_path / "cells.xlsx", Worksheet, by_row=False)

    sheet = ours["xl/worksheets/sheet1.xml"]
    assert b"&lt;script&gt;" in sheet  # escaped, and the links really are in the file
    assert b"<hyperlink " in sheet
    assert b'Target="https://example.com/a&amp;b"' in ours["xl/worksheets/_rels/sheet1.xml.rels"]
    assert ours == theirs


def test_plain_rows_are_written_whole_and_awkward_ones_through_xlsxwriter(tmp_path: Path) -> None:
    by_cell: list[int] = []

    class CountingSheet(StreamedSheet):
        def _write_cell(self, row: int, col: int, cell: object) -> None:
            by_cell.append(row)
            super()._write_cell(row, col, cell)

    _write_rows(tmp_path / "counted.xlsx", CountingSheet, by_row=True)

    plain_row = 1 + AWKWARD_TEXT.index("plain text")
    control_character_row = 1 + AWKWARD_TEXT.index("bell\x07 and carriage return\r")
    assert plain_row not in by_cell
    assert control_character_row in by_cell
    assert 5 in by_cell  # the row with a format of its own
    assert 1 + 10 in by_cell  # an unstyled cell in a column with a format
    assert 1 + 7 in by_cell  # a column past those the streamed sheet names


def test_links_repeated_on_many_rows_and_more_links_than_it_keeps_parsed_are_the_same_bytes(
    tmp_path: Path,
) -> None:
    # A rule's documentation link on every row beside a console link of each row's own: more distinct
    # links than the sheet keeps parsed, so reused and re-parsed links are both written.
    docs = LinkCell("https://docs.aws.amazon.com/config/latest/developerguide/rule.html", "docs")
    console = "https://console.aws.amazon.com/config/home?region=eu-west-1#/timeline?resourceId=res-{}&a=b"
    rows = [[(0, docs, None), (1, LinkCell(console.format(n), "go"), None)] for n in range(1, 1_200)]

    def write(path: Path, sheet_class: type[Worksheet], *, by_row: bool) -> dict[str, bytes]:
        with Workbook(path, {"constant_memory": True}) as book:
            sheet = book.add_worksheet("Links", sheet_class)
            for row, cells in enumerate(rows, start=1):
                if by_row:
                    sheet.write_cells(row, cells)
                else:
                    for col, link, _ in cells:
                        sheet.write_url(row, col, link.target, None, link.text)
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist() if "worksheets" in name}

    ours = write(tmp_path / "rows.xlsx", StreamedSheet, by_row=True)
    theirs = write(tmp_path / "cells.xlsx", Worksheet, by_row=False)

    assert ours["xl/worksheets/_rels/sheet1.xml.rels"].count(b"rule.html") == len(rows)
    assert ours == theirs
