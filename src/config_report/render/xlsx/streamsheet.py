"""A worksheet that writes plain cells' XML in one step: the same bytes as XlsxWriter, for less CPU.

In `constant_memory` mode XlsxWriter turns each finished row into XML cell by cell. For every text cell
it runs five regular expressions (`_xHHHH_` escapes, control characters, XML escapes, leading and
trailing white space) and escapes each attribute through another; at 500,000 findings that is 4.6
million cells and most of the workbook's CPU. Almost every cell needs none of those changes: a few
checks, cheapest first, tell which ones, and those are written directly; text whose only such
characters are `&`, `<` and `>` (a console URL's `&`) is escaped here as XlsxWriter escapes it. Every
other cell (control characters, edge white space, `<r>…</r>`, formulas, links' cells, cells styled by
their row or column) goes through XlsxWriter's own code, so the file is byte for byte what XlsxWriter
alone writes (tests/render/test_streamsheet.py compares the two).

A table's row goes one step further (`write_cells`): when none of its cells needs XlsxWriter's own code,
the whole row's XML is written at once, without XlsxWriter's table of pending cells. That is what
XlsxWriter itself would write for the row once the next one starts, links included (their cell is the
link's text; the link is recorded where XlsxWriter records it, to be written at the end of the sheet).

This relies on XlsxWriter's private `Worksheet._write_cell(row, col, cell)`, the cell tuples it is given,
its row state (`previous_row`, `_write_single_row`, `_check_dimensions`, `hyperlinks`, `hlink_count`)
and the undecorated `_write_string`, `_write_number`, `_write_datetime` and `_write_url` (see below).
Should a later XlsxWriter rename `_write_cell`, the override is never called and the output stays
XlsxWriter's own (a test notices); should it change the tuples or how a row is written, the comparison
test fails; should it rename the others, the import of this module fails.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from xlsxwriter.format import Format
from xlsxwriter.url import Url
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import CellDatetimeTuple, CellNumberTuple, CellStringTuple, Worksheet

_CONTROL_CHARACTERS = r"\x00-\x08\x0b-\x1f\ufffe\uffff"
"""The characters XlsxWriter writes as `_xHHHH_` escapes of its own (a character class's ranges)."""

_CONTROL = re.compile(f"[{_CONTROL_CHARACTERS}]")

_ESCAPED = re.compile(f"[&<>{_CONTROL_CHARACTERS}]")
"""Characters XlsxWriter escapes in text: XML's three, and the control characters."""

_LOOKS_ESCAPED = re.compile(r"_x[0-9a-fA-F]{4}_")
"""Text XlsxWriter would take for an escape of its own, and escape again."""

_COLUMN_NAMES = tuple(xl_col_to_name(col) for col in range(64))
"""A1-style column letters of the columns a report uses (XlsxWriter handles wider sheets itself)."""

_RECENT_LINKS = 1_024
"""Parsed links a sheet keeps for reuse: more than a report has rules, far fewer than its findings."""

EXCEL_MAX_LINKS = 65_530
"""Hyperlinks Excel keeps per sheet; XlsxWriter warns about any past it and drops its cell."""


class LinkCell(NamedTuple):
    """A cell showing `text` that links to `target` (a URL, or `internal:'Sheet'!A1`)."""

    target: str
    text: str


CellValue = str | int | float | date | LinkCell
"""What `write_cells` writes: text, a number, a date or datetime, or a link."""


class StreamedSheet(Worksheet):  # type: ignore[misc]  # XlsxWriter ships no type information
    """A `Worksheet` for `constant_memory` workbooks whose plain text, number and date cells are fast."""

    # The report addresses cells by row and column numbers, never "A1": these three skip the decorator
    # that would try to parse it: about a tenth of the workbook's instructions (docs/benchmarks.md).
    write_string = Worksheet._write_string
    write_number = Worksheet._write_number
    write_datetime = Worksheet._write_datetime

    def __init__(self) -> None:
        super().__init__()
        self._urls: dict[LinkCell, Url] = {}  # recent links, parsed: see `_record_link`

    def write_cells(self, row: int, cells: Sequence[tuple[int, CellValue, Format | None]]) -> None:
        """Write one row's `(column, value, format)` cells, in column order, into a row not yet started.

        The row's XML is written in one piece when XlsxWriter would write it unchanged; otherwise each
        cell goes through XlsxWriter's own methods, which also say what is wrong with a bad one.
        """
        if self._starts_plain_row(row, cells):
            # XlsxWriter writes the row before once this one starts, and numbers styles as it writes.
            self._write_single_row(row)
            pieces = self._row_pieces(row, cells)
            if pieces is not None:
                xml, links = pieces
                self.fh.write(f'<row r="{row + 1}">{"".join(xml)}</row>')
                for col, link in links:
                    self._record_link(row, col, link)
                return
        for col, value, style in cells:
            self._write_value(row, col, value, style)

    def _starts_plain_row(self, row: int, cells: Sequence[tuple[int, CellValue, Format | None]]) -> bool:
        """True when `row` is new, inside the sheet, and neither styled as a row nor commented."""
        return bool(
            self.constant_memory
            and cells
            and row > self.previous_row
            and row not in self.row_info
            and row not in self.comments
            and self.excel_version == 2007
            and self.default_row_height == self.original_row_height
            and not self._check_dimensions(row, cells[0][0])
            and not self._check_dimensions(row, cells[-1][0])
        )

    def _row_pieces(
        self, row: int, cells: Sequence[tuple[int, CellValue, Format | None]]
    ) -> tuple[list[str], list[tuple[int, LinkCell]]] | None:
        """The row's cells as XML and its links, or None when XlsxWriter must write them cell by cell."""
        xml: list[str] = []
        links: list[tuple[int, LinkCell]] = []
        for col, value, style in cells:
            piece = self._cell_xml(row, col, value, style)
            if piece is None:
                return None
            xml.append(piece)
            if type(value) is LinkCell:
                links.append((col, value))
        if self.hlink_count + len(links) > EXCEL_MAX_LINKS:
            return None
        return xml, links

    def _record_link(self, row: int, col: int, link: LinkCell) -> None:
        """Keep `link` where XlsxWriter keeps a cell's link, to be written at the end of the sheet.

        A link repeated on many rows (a rule's documentation) is parsed once: XlsxWriter only reads
        its `Url` when it writes the sheet's links, so the cells can share one.
        """
        url = self._urls.get(link)
        if url is None:
            if len(self._urls) == _RECENT_LINKS:  # a console link is seldom seen twice: keep few
                self._urls.clear()
            url = self._urls[link] = Url(link.target)
            url._text = link.text
        self.hlink_count += 1
        self.hyperlinks[row][col] = url

    def _cell_xml(self, row: int, col: int, value: CellValue, style: Format | None) -> str | None:
        """One cell's XML as XlsxWriter writes it, or None when only XlsxWriter's own code may write it."""
        if col >= len(_COLUMN_NAMES):
            return None
        if isinstance(value, LinkCell):  # its cell is its text, in the default link style if none given
            value, style = value.text, style or self.default_url_format
        elif isinstance(value, date):  # a serial number, as XlsxWriter converts it
            value, style = self._convert_date_time(value), style or self.default_date_format
        attribute = f' s="{style._get_xf_index()}"' if style else self._column_style(col)
        if attribute is None:
            return None
        ref = f"{_COLUMN_NAMES[col]}{row + 1}"
        if isinstance(value, str):
            return _text_xml(ref, attribute, value) if len(value) <= self.xls_strmax else None
        if isinstance(value, int | float) and math.isfinite(value):
            return _number_xml(ref, attribute, value)
        return None

    def _column_style(self, col: int) -> str | None:
        """The ` s` attribute of an unstyled cell in `col`: none, or None when the column has a format."""
        col_info = self.col_info.get(col)
        return None if col_info is not None and col_info.column_format is not None else ""

    def _write_value(self, row: int, col: int, value: CellValue, style: Format | None) -> None:
        """One cell through XlsxWriter's own method for its kind."""
        if isinstance(value, LinkCell):
            self._write_url(row, col, value.target, style, value.text)
        elif isinstance(value, str):
            self._write_string(row, col, value, style)
        elif isinstance(value, date):
            self._write_datetime(row, col, value, style)
        else:
            self._write_number(row, col, value, style)

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        style = self._style_attribute(row, col, cell)
        xml = None
        if style is not None and self.constant_memory and col < len(_COLUMN_NAMES):
            ref = f"{_COLUMN_NAMES[col]}{row + 1}"
            kind = type(cell)
            if kind is CellStringTuple:
                xml = _text_xml(ref, style, cell.string)
            elif kind is CellNumberTuple or kind is CellDatetimeTuple:
                xml = _number_xml(ref, style, cell.number)
        if xml is None:
            super()._write_cell(row, col, cell)
        else:
            self.fh.write(xml)

    def _style_attribute(self, row: int, col: int, cell: Any) -> str | None:
        """The cell's ` s="…"` attribute, "" when unstyled; None when its row or column styles it.

        The report's tables never style whole rows or columns; XlsxWriter resolves those cells itself.
        """
        if cell.format:
            return f' s="{cell.format._get_xf_index()}"'
        row_info = self.row_info.get(row) if self.row_info else None
        if row_info is not None and row_info.row_format:
            return None
        return self._column_style(col)


def _text_xml(ref: str, attribute: str, text: str) -> str | None:
    """An inline text cell as XlsxWriter writes it, or None when XlsxWriter must change more than `&<>`.

    XlsxWriter changes text with control characters or what looks like its `_xHHHH_` escapes, marks
    text with white space at either end, and writes `<r>…</r>` raw as a rich string. The checks are
    in the order of their cost: this runs for every text cell of every finding.
    """
    if text[:1].isspace() or text[-1:].isspace() or ("_x" in text and _LOOKS_ESCAPED.search(text)):
        return None
    if _ESCAPED.search(text):
        if _CONTROL.search(text) or (text.startswith("<r>") and text.endswith("</r>")):
            return None
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{ref}"{attribute} t="inlineStr"><is><t>{text}</t></is></c>'


def _number_xml(ref: str, attribute: str, number: float) -> str:
    """A number's (or a date's serial number's) cell as XlsxWriter writes it."""
    return f'<c r="{ref}"{attribute}><v>{number:.16G}</v></c>'
