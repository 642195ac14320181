"""The rules every cell of the workbook follows, and the formats they are written in.

Every string is written with `write_string` (never `write`), so an AWS string such as `=HYPERLINK(...)`,
`+1` or `0123` stays text instead of becoming a formula or a number; one longer than Excel's per-cell
limit is cut with a visible marker; times are UTC wall-clock time (Excel has no time zones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from xlsxwriter import Workbook
from xlsxwriter.format import Format

EXCEL_MAX_CELL_CHARS = 32_767
"""Excel's limit for one cell's text, counted in UTF-16 code units."""

TRUNCATION_MARKER = "… [truncated]"
"""Ends a cell whose text was cut to fit Excel's limit, so nobody mistakes it for the whole text."""

_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
_ALERT_RED = "#9C0006"
_ALERT_FILL = "#FFC7CE"
_HEADER_FILL = "#DDEBF7"


@dataclass(frozen=True, slots=True)
class Formats:
    """The workbook's formats, registered once for all sheets."""

    header: Format
    date: Format
    day: Format
    change: Format
    alert: Format
    title: Format
    good: Format
    bad: Format
    warn: Format  # amber: the organization's own control is broken (not a gap in reading)
    section: Format
    section_figure: Format
    figure: Format
    percent: Format
    points: Format  # a change of a percentage, signed: +5% is five points more
    link: Format
    note: Format
    wrapped: Format  # a Summary line or note longer than its cells: wrapped, its row made taller
    note_wrapped: Format
    listed: Format  # one item of a list under a Summary line, indented
    footnote: Format

    @classmethod
    def add_to(cls, book: Workbook) -> Formats:
        """Register the workbook's formats, once for all sheets."""
        section = {"bold": True, "font_size": 12, "bottom": 1}
        note = {"font_color": "#595959"}
        return cls(
            header=book.add_format({"bold": True, "bg_color": _HEADER_FILL, "bottom": 1}),
            date=book.add_format({"num_format": _DATE_FORMAT}),
            day=book.add_format({"num_format": "yyyy-mm-dd"}),
            change=book.add_format({"num_format": "+#,##0;-#,##0;0", "font_color": "#595959"}),
            alert=book.add_format({"font_color": _ALERT_RED, "bg_color": _ALERT_FILL}),
            title=book.add_format({"bold": True, "font_size": 16}),
            good=book.add_format({"bold": True, "font_color": "#006100"}),
            bad=book.add_format({"bold": True, "font_color": _ALERT_RED, "bg_color": _ALERT_FILL}),
            warn=book.add_format({"bold": True, "font_color": "#9C5700", "bg_color": "#FFEB9C"}),
            section=book.add_format(section),
            section_figure=book.add_format({**section, "align": "right"}),
            figure=book.add_format({"num_format": "#,##0"}),
            percent=book.add_format({"num_format": "0%"}),
            points=book.add_format({"num_format": "+0%;-0%;0%", "font_color": "#595959"}),
            link=book.add_format({"font_color": "#0563C1", "underline": 1}),
            note=book.add_format(note),
            wrapped=book.add_format({"text_wrap": True}),
            note_wrapped=book.add_format({**note, "text_wrap": True}),
            listed=book.add_format({"font_color": "#595959", "indent": 2}),
            # 10 points, the Summary's smallest text: printed at 70 %, still 7 (layout.py).
            footnote=book.add_format({"italic": True, "font_color": "#808080", "font_size": 10}),
        )


def fit_cell_text(text: str) -> str:
    """`text`, or its head plus `TRUNCATION_MARKER` when it passes Excel's per-cell limit.

    Excel counts UTF-16 code units, so a character outside the Basic Multilingual Plane (an emoji)
    counts twice. A string of at most half the limit in characters always fits: skip the encoding then.
    """
    if len(text) <= EXCEL_MAX_CELL_CHARS // 2:
        return text
    encoded = text.encode("utf-16-le")
    if len(encoded) <= 2 * EXCEL_MAX_CELL_CHARS:
        return text
    budget = EXCEL_MAX_CELL_CHARS - len(TRUNCATION_MARKER.encode("utf-16-le")) // 2
    # A cut through a surrogate pair leaves half a character, which "ignore" drops.
    head = encoded[: 2 * budget].decode("utf-16-le", errors="ignore")
    return head + TRUNCATION_MARKER


def excel_time(moment: datetime) -> datetime:
    """Excel has no time zones: store UTC wall-clock time (a naive datetime is taken as UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def excel_time_or_none(moment: datetime | None) -> datetime | None:
    return excel_time(moment) if moment is not None else None
