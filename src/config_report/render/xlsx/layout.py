"""Where things go on a sheet and on paper: chart placement by explicit sizes, and every sheet's print setup.

Charts are anchored to cells, and a spreadsheet draws a chart from its anchor using the row heights it
knows. Left to defaults, Excel and LibreOffice disagree on those heights (fonts differ), and two charts
placed beside the rows they plot drifted over each other. Here every row of a sheet that holds charts
gets an explicit height, and each chart is placed below the one before by pixel offsets from one fixed
cell, so the drawing anchors written to the file can never overlap, whichever program opens it.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.chart import Chart
from xlsxwriter.worksheet import Worksheet

ROW_HEIGHT_POINTS = 15.75
"""The explicit height of every row on a sheet with charts: not the default, so it is written as custom."""

ROW_HEIGHT_PIXELS = 21
"""`ROW_HEIGHT_POINTS` at 96 dpi: what XlsxWriter uses to turn pixel offsets into cell anchors."""

CHART_WIDTH_PIXELS = 560
"""Every Summary chart is this wide, so the stack reads as one column."""

CHART_GAP_PIXELS = 16
"""Blank space between two stacked charts."""


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
    row heights, so consecutive charts cannot overlap.
    """

    sheet: Worksheet
    row: int
    col: int
    _next_offset: int = 8

    def add(self, chart: Chart, *, height: int) -> None:
        """Insert `chart`, `height` pixels tall, below the charts already in the stack."""
        chart.set_size({"width": CHART_WIDTH_PIXELS, "height": height})
        self.sheet.insert_chart(
            self.row,
            self.col,
            chart,
            # "absolute": a row someone later makes taller must not stretch one chart into the next.
            {"x_offset": 10, "y_offset": self._next_offset, "object_position": 3},
        )
        self._next_offset += height + CHART_GAP_PIXELS

    @property
    def bottom_row(self) -> int:
        """The first row wholly below every chart of the stack (for content that must not sit beside)."""
        return self.row + -(-self._next_offset // ROW_HEIGHT_PIXELS)


def print_setup(sheet: Worksheet, *, run_id: str, header_rows: int = 1) -> None:
    """Landscape, one page wide, the header row repeated on every page, a footer with run and page.

    `header_rows` 0 repeats nothing (the Summary has no table header).
    """
    sheet.set_landscape()
    sheet.set_paper(9)  # A4; Letter users' printers scale it, and the page fits either way
    sheet.fit_to_pages(1, 0)  # as wide as one page, as many pages long as the rows need
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    if header_rows:
        sheet.repeat_rows(0, header_rows - 1)
    # &L/&R place text left and right; &P and &N are the page number and page count. A run ID holds
    # only digits, letters and '-', none of which a footer treats as a control code.
    sheet.set_footer(f"&LConfig compliance report, run {run_id}&RPage &P of &N")
