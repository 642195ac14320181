"""Where things go on a sheet and on paper: chart placement by explicit sizes, and every sheet's print setup.

Charts are anchored to cells, and a spreadsheet draws a chart from its anchor using the row heights it
knows. Left to defaults, Excel and LibreOffice disagree on those heights (fonts differ), and two charts
placed beside the rows they plot drifted over each other. Here every row of a sheet that holds charts
gets an explicit height, and each chart is placed below the one before by pixel offsets from one fixed
cell, so the drawing anchors written to the file can never overlap, whichever program opens it.

On paper, text must stay legible: no sheet prints so small that its smallest text is below
`LEGIBLE_POINTS`. A table prints one page wide, the header row on every page: all its columns when they
fit at `TABLE_MIN_PRINT_SCALE`, else its leading columns only, which the page header names. The Summary
is sized to fit one page wide (charts included), and breaks between pages only where no table and no
chart is cut.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from xlsxwriter.chart import Chart
from xlsxwriter.utility import xl_pixel_width
from xlsxwriter.worksheet import Worksheet

ROW_HEIGHT_POINTS = 15.75
"""The explicit height of every row on a sheet with charts: not the default, so it is written as custom."""

ROW_HEIGHT_PIXELS = 21
"""`ROW_HEIGHT_POINTS` at 96 dpi: what XlsxWriter uses to turn pixel offsets into cell anchors."""

CHART_WIDTH_PIXELS = 400
"""Every Summary chart is this wide, so the stack reads as one column (and the Summary prints at 70 %)."""

CHART_X_OFFSET_PIXELS = 10
"""Space between the Summary's text and its charts."""

CHART_COLUMN_PIXELS = CHART_X_OFFSET_PIXELS + CHART_WIDTH_PIXELS + 4
"""The charts stand in one column of this width: Excel and LibreOffice agree on a width given to a
column (not on the default width), so the charts and the printed page are as wide in either."""

CHART_GAP_PIXELS = 16
"""Blank space between two stacked charts."""

LEGIBLE_POINTS = 7
"""The smallest text a printed page may carry."""

BODY_POINTS = 11
"""The workbook's text (Calibri 11): every table is written in it and nothing smaller."""

SUMMARY_SMALLEST_POINTS = 10
"""The Summary's smallest text: its footnotes. (The charts' labels are 11 points, as LibreOffice shrinks
a chart's text to fit long rule names: names of up to about 55 characters still print at 7 points.)"""


def min_print_scale(points: float) -> int:
    """The smallest scale, in percent, at which text of `points` still prints `LEGIBLE_POINTS` tall."""
    return math.ceil(100 * LEGIBLE_POINTS / points)


TABLE_MIN_PRINT_SCALE = min_print_scale(BODY_POINTS)
"""Percent: no table prints smaller (its 11-point text prints at 7 points, or more)."""

SUMMARY_MIN_PRINT_SCALE = min_print_scale(SUMMARY_SMALLEST_POINTS)
"""Percent: the Summary prints no smaller (its body text prints at 7.7 points)."""

_MARGINS_INCHES = {"left": 0.4, "right": 0.4, "top": 0.5, "bottom": 0.6}
_A4_LANDSCAPE_POINTS = (841.89, 595.28)
PRINTABLE_WIDTH_PIXELS = (
    (_A4_LANDSCAPE_POINTS[0] - 72 * (_MARGINS_INCHES["left"] + _MARGINS_INCHES["right"])) * 4 / 3
)
"""The width of an A4 landscape page inside its margins, in pixels of a sheet printed at 100 %."""

PRINTABLE_HEIGHT_POINTS = _A4_LANDSCAPE_POINTS[1] - 72 * (_MARGINS_INCHES["top"] + _MARGINS_INCHES["bottom"])
"""The height of an A4 landscape page inside its margins (the footer sits in the bottom margin)."""

_PAGE_FILL = 0.95
"""The share of a page's height the Summary's own page breaks plan to fill: programs round row heights."""

_WIDTH_SPARE = 1.07
"""LibreOffice (with Carlito, its Calibri) draws columns up to 3 % wider than Excel: a page planned one
page wide leaves that much to spare."""

_EXCEL_ROWS = 1_048_576

_FIRST_CHART_OFFSET = 8
"""Pixels between the top of a chart's first row and the chart."""


def column_pixels(width: float) -> int:
    """A column `width` characters wide, in pixels, as Excel and XlsxWriter size it (Calibri 11).

    A character is the width of a digit, 7 pixels, and every column adds 5 pixels of padding.
    """
    if width <= 0:
        return 0
    if width < 1:
        return int(width * 12 + 0.5)
    return int(width * 7 + 0.5) + 5


def wrapped_lines(text: str, width_pixels: int) -> int:
    """How many lines `text` takes when wrapped in a cell `width_pixels` wide (at least 1).

    Words are measured with Calibri 11's widths, with 5 % to spare; a word longer than a line is cut,
    as spreadsheets cut it.
    """
    room = max((width_pixels - 7) / 1.05, 1.0)
    space = xl_pixel_width(" ")
    lines, used = 1, 0.0
    for word in text.split():
        size = float(xl_pixel_width(word))
        if used and used + space + size <= room:
            used += space + size
            continue
        if used:
            lines += 1  # the word starts a new line
        while size > room:  # and one wider than a line is cut over several
            lines += 1
            size -= room
        used = size
    return lines


def fix_row_heights(sheet: Worksheet) -> None:
    """Give every row of `sheet` the same explicit height, before anything is written on it.

    `set_default_row` also marks the height as custom in the file, so LibreOffice keeps it rather than
    recomputing it from the font: the chart anchors then mean the same on every program.
    """
    sheet.set_default_row(ROW_HEIGHT_POINTS)


@dataclass(slots=True)
class ChartStack:
    """Charts stacked top to bottom in one column of a sheet, each below the previous one.

    Every chart is anchored at the same cell (`row`, `col`) and pushed down by the heights of the charts
    before it plus a gap: XlsxWriter converts the offset into a cell anchor using the sheet's explicit
    row heights, so consecutive charts cannot overlap. The charts are placed once the page breaks are
    known (`place`): a chart that would straddle one starts below it instead.
    """

    sheet: Worksheet
    row: int
    col: int
    _charts: list[tuple[Chart, int]] = field(default_factory=list)

    def add(self, chart: Chart, *, height: int) -> None:
        """Stack `chart`, `height` pixels tall, below the charts already in the stack."""
        chart.set_size({"width": CHART_WIDTH_PIXELS, "height": height})
        self._charts.append((chart, height))

    @property
    def count(self) -> int:
        """How many charts the stack holds."""
        return len(self._charts)

    def height_pixels(self) -> int:
        """The stack's height, its charts one below the other with nothing pushing them apart."""
        return _FIRST_CHART_OFFSET + sum(height + CHART_GAP_PIXELS for _, height in self._charts)

    def place(self, rows: PrintedRows, breaks: Sequence[int]) -> int:
        """Insert the charts, none across a page break in `breaks`; return the row below the last one."""
        self.sheet.set_column_pixels(self.col, self.col, CHART_COLUMN_PIXELS)
        offset = _FIRST_CHART_OFFSET
        for chart, height in self._charts:
            top, bottom = rows.row_at(self.row, offset), rows.row_at(self.row, offset + height - 1)
            crossed = [b for b in breaks if top < b <= bottom]
            if crossed:  # start on the next page instead, a little below its top
                offset = rows.pixels(self.row, crossed[0]) + _FIRST_CHART_OFFSET
            self.sheet.insert_chart(
                self.row,
                self.col,
                chart,
                # "absolute": a row someone later makes taller must not stretch one chart into the next.
                {"x_offset": CHART_X_OFFSET_PIXELS, "y_offset": offset, "object_position": 3},
            )
            offset += height + CHART_GAP_PIXELS
        return rows.row_at(self.row, offset) + 1


@dataclass(slots=True)
class PrintedRows:
    """The rows of a sheet written top to bottom: their heights, and where a block (a table) starts.

    A page may break before a block, never inside one, unless the block alone is taller than a page.
    """

    default_points: float = ROW_HEIGHT_POINTS
    _heights: dict[int, float] = field(default_factory=dict)
    _starts: list[int] = field(default_factory=list)
    _blank: set[int] = field(default_factory=set)

    def set_height(self, row: int, points: float) -> None:
        """Record that `row` was made `points` tall (as the sheet's `set_row` made it)."""
        self._heights[row] = points

    def height(self, row: int) -> float:
        """The height of `row`, in points."""
        return self._heights.get(row, self.default_points)

    def start_block(self, row: int) -> None:
        """Mark `row` as the first of a block that a page break should not cut."""
        if not self._starts or self._starts[-1] != row:
            self._starts.append(row)

    def _pixels(self, row: int) -> int:
        return int(self.height(row) * 4 / 3 + 0.5)  # as XlsxWriter rounds a row's height

    def pixels(self, first: int, last: int) -> int:
        """The height of rows `first` to `last - 1`, in pixels."""
        return sum(self._pixels(row) for row in range(first, last))

    def row_at(self, row: int, pixels: int) -> int:
        """The row `pixels` below the top of `row`, as XlsxWriter anchors a drawing."""
        while pixels >= (size := self._pixels(row)):
            pixels -= size
            row += 1
        return row

    def mark_blank(self, row: int) -> None:
        """Mark `row` as empty: at the foot of a page it may use the room kept to spare."""
        self._blank.add(row)

    def breaks(self, *, end: int, page_points: float) -> list[int]:
        """Rows before which pages break, each page holding as many whole blocks as fit.

        `end` is the first row after the sheet's last; `page_points` the height a page holds, of which
        text fills `_PAGE_FILL` (programs round row heights differently). A block taller than a page
        is broken where the page is full.
        """
        breaks: list[int] = []
        top = 0
        while True:
            row, used = top, 0.0
            while row < end:
                room = page_points if row in self._blank else page_points * _PAGE_FILL
                if used + self.height(row) > room:
                    break
                used += self.height(row)
                row += 1
            if row >= end:
                return breaks
            row = max(row, top + 1)  # a row taller than a page has a page of its own
            fits = [start for start in self._starts if top < start <= row]
            top = fits[-1] if fits else row
            breaks.append(top)


def _page_setup(sheet: Worksheet, run_id: str) -> None:
    """A4 landscape, the margins, and a footer naming the run, the sheet and the page."""
    sheet.set_landscape()
    sheet.set_paper(9)  # A4; Letter users' printers scale it, and the page fits either way
    sheet.set_margins(**_MARGINS_INCHES)
    # &L, &C and &R place text left, centre and right; &A is the sheet's name, &P and &N the page number
    # and count. A run ID holds only digits, letters and '-', none of which a footer treats as a code.
    sheet.set_footer(f"&LConfig compliance report, run {run_id}&C&A&RPage &P of &N")


def printed_columns(widths: Sequence[float]) -> int:
    """How many of a table's leading columns, `widths` in characters, print one page wide legibly.

    All of them when they fit at `TABLE_MIN_PRINT_SCALE`; else as many leading columns as fit (at least
    one).
    """
    page = PRINTABLE_WIDTH_PIXELS * 100 / TABLE_MIN_PRINT_SCALE
    count, used = 0, 0.0
    for width in widths:
        used += column_pixels(width) * _WIDTH_SPARE
        if count and used > page:
            break
        count += 1
    return count


def print_setup(sheet: Worksheet, *, run_id: str, columns: Sequence[tuple[str, float]]) -> None:
    """Print a table legibly: one page wide at `TABLE_MIN_PRINT_SCALE` or more, as many pages long as it runs.

    `columns` are the table's headers and widths (in characters), left to right. A table too wide for
    one page at that scale prints its leading columns only (the account, the rule, the resource): one
    page holds whole rows, where pages side by side would split each row over several sheets of paper.
    The page header then says which columns are printed; the workbook holds them all.
    """
    _page_setup(sheet, run_id)
    sheet.repeat_rows(0)
    count = printed_columns([width for _, width in columns])
    # Whole columns: text running over the last column's edge would otherwise widen the printed page.
    sheet.print_area(0, 0, _EXCEL_ROWS - 1, count - 1)
    sheet.fit_to_pages(1, 0)  # as wide as one page, as many pages long as the rows need
    if count < len(columns):
        first, last = columns[0][0], columns[count - 1][0]
        # A header text treats '&' as a code: doubled, it prints as itself.
        printed = (
            f"Printed: {first} to {last}, {count} of {len(columns)} columns; the workbook holds them all"
        )
        sheet.set_header("&L" + printed.replace("&", "&&"))


def print_summary(
    sheet: Worksheet,
    *,
    run_id: str,
    column_widths: Sequence[float],
    charts: ChartStack,
    rows: PrintedRows,
    end: int,
) -> None:
    """Print the Summary one page wide, charts included, on pages that cut no table and no chart.

    `end` is the first row below the Summary's text. The scale is fixed from the columns' widths rather
    than left to the program's fit-to-width, which would ignore the page breaks. The charts are placed
    here, once the breaks are known. Raises `ValueError` when the columns are too wide to print the
    Summary's smallest text legibly.
    """
    _page_setup(sheet, run_id)
    if charts.col != len(column_widths):
        raise ValueError("the charts' column must follow the text columns")
    width = sum(map(column_pixels, column_widths)) + CHART_COLUMN_PIXELS
    scale = min(100, math.floor(100 * PRINTABLE_WIDTH_PIXELS / (width * _WIDTH_SPARE)))
    if scale < SUMMARY_MIN_PRINT_SCALE:  # a column made wider: narrow another, or its text prints too small
        raise ValueError(f"the Summary's columns print at {scale} %, below {SUMMARY_MIN_PRINT_SCALE} %")
    sheet.set_print_scale(scale)
    sheet.print_area(0, 0, _EXCEL_ROWS - 1, charts.col)
    page = PRINTABLE_HEIGHT_POINTS * 100 / scale
    # Below the text, the charts may run on: plan pages for the rows they could need, then keep the
    # breaks above whichever ends lower.
    page_rows = math.ceil(page / rows.default_points)
    rows.start_block(end)  # the text's last block ends where it does, not where the charts do
    reach = max(end, rows.row_at(charts.row, charts.height_pixels())) + (charts.count + 1) * page_rows
    breaks = rows.breaks(end=reach, page_points=page)
    bottom = max(end, charts.place(rows, breaks))
    sheet.set_h_pagebreaks([row for row in breaks if row < bottom])
