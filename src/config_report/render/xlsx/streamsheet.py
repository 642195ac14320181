"""A worksheet that writes plain cells' XML in one step: the same bytes as XlsxWriter, for less CPU.

In `constant_memory` mode XlsxWriter turns each finished row into XML cell by cell. For every text cell
it runs five regular expressions (`_xHHHH_` escapes, control characters, XML escapes, leading and
trailing white space) and escapes each attribute through another; at 500,000 findings that is 4.6
million cells and most of the workbook's CPU. Almost every cell needs none of those changes: one
expression that matches whatever any of them would change tells which ones, and those are written
directly; text whose only such characters are `&`, `<` and `>` (a console URL's `&`) is escaped here as
XlsxWriter escapes it. Every other cell (control characters, edge white space, `<r>…</r>`, formulas,
links' cells, cells styled by their row or column) goes through XlsxWriter's own code, so the file is
byte for byte what XlsxWriter alone writes (tests/render/test_streamsheet.py compares the two).

This relies on XlsxWriter's private `Worksheet._write_cell(row, col, cell)`, the cell tuples it is given,
and the undecorated `_write_string`, `_write_number` and `_write_datetime` (see below). Should a later
XlsxWriter rename `_write_cell`, the override is never called and the output stays XlsxWriter's own (a
test notices); should it change the tuples, the comparison test fails; should it rename the others, the
import of this module fails.
"""

from __future__ import annotations

import re
from typing import Any

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import CellDatetimeTuple, CellNumberTuple, CellStringTuple, Worksheet

_NEEDS_XLSXWRITER = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
"""Text that XlsxWriter would change or mark when writing it: escapes, control characters, edge spaces.

The union of what `_escape_control_characters`, `_escape_data`, `_preserve_whitespace` and the rich
string test (`<r>…</r>`) look for; text without a match is written as it is.
"""

_NEEDS_MORE_THAN_ESCAPES = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
"""What `_NEEDS_XLSXWRITER` matches but XML's three escapes: text without it needs only `_escape_data`."""

_COLUMN_NAMES = tuple(xl_col_to_name(col) for col in range(64))
"""A1-style column letters of the columns a report uses (XlsxWriter handles wider sheets itself)."""


class StreamedSheet(Worksheet):  # type: ignore[misc]  # XlsxWriter ships no type information
    """A `Worksheet` for `constant_memory` workbooks whose plain text, number and date cells are fast."""

    # The report addresses cells by row and column numbers, never "A1": these three skip the decorator
    # that would try to parse it: about a tenth of the workbook's instructions (docs/benchmarks.md).
    write_string = Worksheet._write_string
    write_number = Worksheet._write_number
    write_datetime = Worksheet._write_datetime

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        style = self._style_attribute(row, col, cell)
        kind = type(cell)
        if style is None or not self.constant_memory or col >= len(_COLUMN_NAMES):
            super()._write_cell(row, col, cell)
        elif kind is CellStringTuple and not _NEEDS_XLSXWRITER.search(cell.string):
            ref = f"{_COLUMN_NAMES[col]}{row + 1}"
            self.fh.write(f'<c r="{ref}"{style} t="inlineStr"><is><t>{cell.string}</t></is></c>')
        elif kind is CellStringTuple and _escapes_alone(cell.string):
            ref = f"{_COLUMN_NAMES[col]}{row + 1}"
            text = cell.string.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            self.fh.write(f'<c r="{ref}"{style} t="inlineStr"><is><t>{text}</t></is></c>')
        elif kind is CellNumberTuple or kind is CellDatetimeTuple:
            ref = f"{_COLUMN_NAMES[col]}{row + 1}"
            self.fh.write(f'<c r="{ref}"{style}><v>{cell.number:.16G}</v></c>')
        else:
            super()._write_cell(row, col, cell)

    def _style_attribute(self, row: int, col: int, cell: Any) -> str | None:
        """The cell's ` s="…"` attribute, "" when unstyled; None when its row or column styles it.

        The report's tables never style whole rows or columns; XlsxWriter resolves those cells itself.
        """
        if cell.format:
            return f' s="{cell.format._get_xf_index()}"'
        row_info = self.row_info.get(row) if self.row_info else None
        if row_info is not None and row_info.row_format:
            return None
        col_info = self.col_info.get(col)
        return None if col_info is not None and col_info.column_format is not None else ""


def _escapes_alone(text: str) -> bool:
    """True when XlsxWriter would only escape `&`, `<` and `>` in `text`: nothing else to change, and not
    the `<r>…</r>` it would write raw as a rich string."""
    rich = text.startswith("<r>") and text.endswith("</r>")
    return not rich and not _NEEDS_MORE_THAN_ESCAPES.search(text)
