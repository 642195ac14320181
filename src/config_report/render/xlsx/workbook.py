"""The Excel workbook: what a person opens on Monday morning.

Sheet names, their order and their headers are a contract (DESIGN.md, "The workbook"). The workbook is
streamed with XlsxWriter's `constant_memory` mode: a row is flushed to disk as soon as the next one
starts, so every sheet is written strictly top to bottom, and `Summary`, which comes first, is built from
`Report.figures()` alone. Rows are produced lazily from the `Report`; nothing here holds a list of them.

Every string is written with `write_string` (never `write`), so an AWS string such as `=HYPERLINK(...)`,
`+1` or `0123` stays text instead of becoming a formula or a number. The tables' sheets are
`StreamedSheet`s, which write the XML of plain cells in one step with the very bytes XlsxWriter
writes (43 % less CPU for 500,000 findings: docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from xlsxwriter import Workbook
from xlsxwriter.exceptions import XlsxFileError
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from config_report.aws.tags import by_ou, by_owner
from config_report.domain.catalogue import CatalogueEntry, build_catalogue, catalogue_rows
from config_report.domain.model import (
    Account,
    AccountScan,
    Changes,
    Compliance,
    CoverageStatus,
    EvaluationFlag,
    ExceptionStatus,
    Figures,
    Finding,
    FindingStatus,
    GroupFigures,
    HistoryEntry,
    RankedItem,
    Report,
)
from config_report.errors import PublishError
from config_report.render.xlsx.layout import ChartStack, fix_row_heights, print_setup
from config_report.render.xlsx.streamsheet import StreamedSheet

EXCEL_MAX_ROWS = 1_048_576
"""Rows per sheet, header included; XlsxWriter silently drops rows past it, so sheets split before."""

EXCEL_MAX_CELL_CHARS = 32_767
"""Excel's limit for one cell's text, counted in UTF-16 code units."""

EXCEL_MAX_SHEET_NAME = 31

TRUNCATION_MARKER = "… [truncated]"
"""Ends a cell whose text was cut to fit Excel's limit, so nobody mistakes it for the whole text."""

SUMMARY_TOP = 10
"""How many rules and accounts the Summary's 'worst' tables show."""

SUMMARY = "Summary"
ACCOUNTS = "Accounts"
RULES = "Rules"
FINDINGS = "Non-compliant resources"
COVERAGE = "Coverage"
EXCEPTIONS = "Accepted exceptions"
CATALOGUE = "Rule catalogue"

EXCEL_MAX_LINKS = 65_530
"""Hyperlinks Excel keeps per sheet; past it, the normalized name is the key to look a rule up."""
CHANGES = "Changes"

_TREND_CHART_HEIGHT = 288  # pixels: twelve weekly points and two axes stay readable
CHANGES_LISTED_ACCOUNTS = 10
"""How many joined or left accounts the Summary names before saying how many more."""

_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
_ALERT_RED = "#9C0006"
_ALERT_FILL = "#FFC7CE"
_HEADER_FILL = "#DDEBF7"
_COMPLIANT_GREEN = "#70AD47"
_NONCOMPLIANT_RED = "#C00000"
_OTHER_GREY = "#A5A5A5"
_TITLE_ROW_POINTS = 24.0
_CHART_COLUMN = 4  # column E: charts stand right of the Summary's three columns of text

_WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # Belt and braces: write_string never converts, but nothing else should either.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


@dataclass(frozen=True, slots=True)
class _Link:
    """A cell showing `text` that links to `target` (`internal:'Sheet'!A1` or an https URL)."""

    text: str
    target: str


Cell = str | int | float | datetime | date | _Link | None
Row = tuple[Cell, ...]


@dataclass(slots=True)
class _LinkBudget:
    """Links left on the sheet being written: past Excel's limit a link is written as plain text."""

    left: int = EXCEL_MAX_LINKS


@dataclass(frozen=True, slots=True)
class _Column:
    header: str
    width: float
    alert: frozenset[str] = frozenset()  # values worth a second look get the alert format


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    columns: tuple[_Column, ...]


_GAPS = frozenset(s.value for s in CoverageStatus if s.is_gap)

_ACCOUNTS_TABLE = _Table(
    ACCOUNTS,
    (
        _Column("Account ID", 15),
        _Column("Account Name", 30),
        _Column("OU", 24),
        _Column("Scan Status", 16, alert=_GAPS | {"PARTIAL"}),
        _Column("Regions Scanned", 18),
        _Column("Regions Without Config", 25),
        _Column("Regions Not Readable", 23),
        _Column("Non-compliant Rules", 22),
        _Column("Non-compliant Resources", 26),
        _Column("Email", 32),
    ),
)
_RULES_TABLE = _Table(
    RULES,
    (
        _Column("Account ID", 15),
        _Column("Account Name", 30),
        _Column("Region", 16),
        _Column("Rule Name", 48),
        _Column("Compliance", 22, alert=frozenset({Compliance.NON_COMPLIANT.value})),
        _Column("Non-compliant Resources", 26),
        _Column("Normalized Rule Name", 40),
        _Column("Rule State", 14),
        _Column("Read Status", 16, alert=_GAPS),
        _Column("Read Detail", 60),
        _Column("Evaluation", 12, alert=frozenset(f.value for f in EvaluationFlag)),
        _Column("Last Successful Evaluation", 26),
        _Column("Last Failed Evaluation", 24),
        _Column("Last Error Code", 24),
    ),
)
_FINDINGS_TABLE = _Table(
    FINDINGS,
    (
        _Column("Account ID", 15),
        _Column("Account Name", 30),
        _Column("Region", 16),
        _Column("Rule Name", 48),
        _Column("Resource Type", 32),
        _Column("Resource ID", 50),
        _Column("Annotation", 80),
        _Column("Last Evaluated", 20),
        _Column("Status", 13, alert=frozenset({FindingStatus.NEW.value})),
        _Column("First Seen", 12),
        _Column("Age (days)", 11),
        _Column("Accepted", 48),
        _Column("Owner", 28),
        _Column("Owner Source", 24),
        _Column("Normalized Rule Name", 40),
    ),
)
_COVERAGE_TABLE = _Table(
    COVERAGE,
    (
        _Column("Account ID", 15),
        _Column("Account Name", 30),
        _Column("Region", 16),
        _Column("Status", 22, alert=_GAPS),
        _Column("Detail", 80),
    ),
)
_CHANGES_TABLE = _Table(
    CHANGES,
    (
        _Column("Status", 13, alert=frozenset({FindingStatus.NEW.value})),
        *_FINDINGS_TABLE.columns[:8],
        _Column("First Seen", 12),
        _Column("Age (days)", 11),
    ),
)


_CATALOGUE_TABLE = _Table(
    CATALOGUE,
    (
        _Column("Rule", 44),
        _Column("Source", 16),
        _Column("Identifier", 36),
        _Column("Description", 60),
        _Column("Created By", 28),
        _Column("Docs Link", 60),
        _Column("Accounts Deployed", 18),
        _Column("Account-Regions Deployed", 24),
        _Column("Accounts Failing", 16),
        _Column("Resources Failing", 18),
        _Column("Conformance Packs", 44),
    ),
)
_EXCEPTIONS_TABLE = _Table(
    EXCEPTIONS,
    (
        _Column("Source", 24),
        _Column("Account", 15),
        _Column("Region", 14),
        _Column("Rule", 40),
        _Column("Resource", 36),
        _Column("Reason", 48),
        _Column("Ticket", 14),
        _Column("Expires", 12),
        _Column("Status", 12, alert=frozenset({ExceptionStatus.EXPIRED.value, ExceptionStatus.UNUSED.value})),
        _Column("Findings", 10),
    ),
)


@dataclass(frozen=True, slots=True)
class _Formats:
    header: Format
    date: Format
    day: Format
    change: Format
    alert: Format
    title: Format
    good: Format
    bad: Format
    section: Format
    section_figure: Format
    figure: Format
    percent: Format
    link: Format
    note: Format
    footnote: Format

    @classmethod
    def add_to(cls, book: Workbook) -> _Formats:
        """Register the workbook's formats, once for all sheets."""
        section = {"bold": True, "font_size": 12, "bottom": 1}
        return cls(
            header=book.add_format({"bold": True, "bg_color": _HEADER_FILL, "bottom": 1}),
            date=book.add_format({"num_format": _DATE_FORMAT}),
            day=book.add_format({"num_format": "yyyy-mm-dd"}),
            change=book.add_format({"num_format": "+#,##0;-#,##0;0", "font_color": "#595959"}),
            alert=book.add_format({"font_color": _ALERT_RED, "bg_color": _ALERT_FILL}),
            title=book.add_format({"bold": True, "font_size": 16}),
            good=book.add_format({"bold": True, "font_color": "#006100"}),
            bad=book.add_format({"bold": True, "font_color": _ALERT_RED, "bg_color": _ALERT_FILL}),
            section=book.add_format(section),
            section_figure=book.add_format({**section, "align": "right"}),
            figure=book.add_format({"num_format": "#,##0"}),
            percent=book.add_format({"num_format": "0%"}),
            link=book.add_format({"font_color": "#0563C1", "underline": 1}),
            note=book.add_format({"font_color": "#595959"}),
            footnote=book.add_format({"italic": True, "font_color": "#808080", "font_size": 9}),
        )


def write_workbook(report: Report, path: Path, *, max_rows: int = EXCEL_MAX_ROWS) -> Path:
    """Write `report` as an .xlsx workbook at `path` and return `path`.

    `max_rows` is the most rows a sheet may hold, its header included; a table longer than that
    continues on `<name> (2)`, `<name> (3)`, … each with its own header. Only tests should lower it.
    Raises `PublishError` when the file cannot be written.
    """
    if not 2 <= max_rows <= EXCEL_MAX_ROWS:
        raise ValueError(f"max_rows must be between 2 and {EXCEL_MAX_ROWS}, not {max_rows}")
    try:
        # Opening the file first makes a bad destination fail before XlsxWriter has opened the temporary
        # files of constant_memory, which it only closes when it succeeds.
        with path.open("wb") as target, Workbook(target, _WORKBOOK_OPTIONS) as book:
            _write_sheets(book, report, max_rows)
    except (OSError, XlsxFileError) as exc:
        raise PublishError(f"could not write the workbook {path}: {exc}") from exc
    return path


def _write_sheets(book: Workbook, report: Report, max_rows: int) -> None:
    book.set_properties(
        {
            "title": f"AWS Config compliance report {report.run.run_id}",
            "author": "config-report",
            "created": _excel_time(report.run.finished_at),
        }
    )
    formats = _Formats.add_to(book)
    names = report.account_names()
    _write_summary(book, report, report.figures(top=SUMMARY_TOP), formats)
    run_id = report.run.run_id
    _write_table(book, _ACCOUNTS_TABLE, _account_rows(report.scans), formats, max_rows, run_id)
    catalogue = build_catalogue(report)
    rows = catalogue_rows(catalogue)
    _write_table(book, _RULES_TABLE, _rule_rows(report, names, rows), formats, max_rows, run_id)
    _write_table(book, _FINDINGS_TABLE, _finding_rows(report, names), formats, max_rows, run_id)
    _write_table(book, _COVERAGE_TABLE, _coverage_rows(report, names), formats, max_rows, run_id)
    _write_table(book, _CHANGES_TABLE, _change_rows(report, names), formats, max_rows, run_id)
    _write_table(book, _CATALOGUE_TABLE, _catalogue_entry_rows(catalogue), formats, max_rows, run_id)
    if report.exceptions:
        _write_table(book, _EXCEPTIONS_TABLE, _exception_rows(report), formats, max_rows, run_id)


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


# --- data sheets -------------------------------------------------------------------------------------


def _account_rows(scans: Iterable[AccountScan]) -> Iterator[Row]:
    for scan in scans:
        account = scan.account
        statuses = [c.status for c in scan.coverage]
        yield (
            account.id,
            account.name,
            account.ou,
            scan.status,
            statuses.count(CoverageStatus.OK),
            statuses.count(CoverageStatus.CONFIG_NOT_ENABLED),
            sum(1 for s in statuses if s.is_gap),
            sum(1 for r in scan.rules if r.compliance is Compliance.NON_COMPLIANT),
            sum(r.noncompliant_resources for r in scan.rules),
            account.email,
        )


def _catalogue_link(text: str, row: int | None) -> Cell:
    return text if row is None else _Link(text, f"internal:'{CATALOGUE}'!A{row + 1}")


def _catalogue_entry_rows(entries: Iterable[CatalogueEntry]) -> Iterator[Row]:
    for e in entries:
        yield (
            e.name,
            e.source,
            e.identifier,
            e.description,
            e.created_by,
            _Link(e.docs_url, e.docs_url) if e.docs_url else None,
            e.accounts_deployed,
            e.regions_deployed,
            e.accounts_failing,
            e.resources_failing,
            e.conformance_packs_label(),
        )


def _rule_rows(report: Report, names: dict[str, str], catalogue_rows: dict[str, int]) -> Iterator[Row]:
    for r in report.rules():
        yield (
            r.account_id,
            names.get(r.account_id, ""),
            r.region,
            _catalogue_link(r.rule_name, catalogue_rows.get(r.normalized_name)),
            r.compliance.value,
            r.noncompliant_resources,
            r.normalized_name,
            r.state,
            r.read_status.value,
            r.read_detail,
            r.evaluation_flag.value if r.evaluation_flag else "",
            _excel_time_or_none(r.last_successful_evaluation),
            _excel_time_or_none(r.last_failed_evaluation),
            r.last_error_code,
        )


def _finding_rows(report: Report, names: dict[str, str]) -> Iterator[Row]:
    today = report.run.started_at.date()
    for f in report.findings():
        yield (
            *_finding_cells(f, names),
            f.status.value if f.status else None,
            *_age_cells(f, today),
            f.accepted.label() if f.accepted else None,
            f.owner.name if f.owner else None,
            f.owner.source_label() if f.owner else None,
            f.normalized_name,
        )


def _finding_cells(f: Finding, names: dict[str, str]) -> Row:
    """The eight fixed columns of a finding, shared by the resources and Changes sheets."""
    return (
        f.account_id,
        names.get(f.account_id, ""),
        f.region,
        f.rule_name,
        f.resource_type,
        f.resource_id,
        f.annotation,
        _excel_time_or_none(f.last_evaluated),
    )


def _age_cells(f: Finding, today: date) -> Row:
    if f.first_seen is None:
        return (None, None)
    return (f.first_seen, f.age_days(today))


def _change_rows(report: Report, names: dict[str, str]) -> Iterator[Row]:
    """New findings, then resolved ones (each list in account order)."""
    if report.changes is None:
        return
    today = report.run.started_at.date()
    for f in (*report.changes.new, *report.changes.resolved):
        status = f.status.value if f.status else None
        yield (status, *_finding_cells(f, names), *_age_cells(f, today))


def _coverage_rows(report: Report, names: dict[str, str]) -> Iterator[Row]:
    for c in report.coverage():
        yield (c.account_id, names.get(c.account_id, ""), c.region, c.status.value, c.detail)


def _exception_rows(report: Report) -> Iterator[Row]:
    for e in report.exceptions:
        accepted = e.acceptance
        yield (
            e.source,
            e.account,
            e.region,
            e.rule,
            e.resource,
            accepted.reason,
            accepted.ticket,
            f"{accepted.expires:%Y-%m-%d}",
            e.status.value,
            e.findings,
        )


def _excel_time(moment: datetime) -> datetime:
    """Excel has no time zones: store UTC wall-clock time (a naive datetime is taken as UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _excel_time_or_none(moment: datetime | None) -> datetime | None:
    return _excel_time(moment) if moment is not None else None


def _write_table(
    book: Workbook, table: _Table, rows: Iterable[Row], formats: _Formats, max_rows: int, run_id: str
) -> None:
    """Stream `rows` under `table`'s header, continuing on a numbered sheet before `max_rows`."""
    page = 1
    sheet = _start_page(book, table, page, formats, run_id)
    links = _LinkBudget()
    alerts = tuple(column.alert for column in table.columns)
    row_number = 0
    for row in rows:
        row_number += 1
        if row_number == max_rows:
            _finish_page(sheet, table, last_row=row_number - 1)
            page += 1
            sheet = _start_page(book, table, page, formats, run_id)
            links = _LinkBudget()
            row_number = 1
        _write_row(sheet, row_number, row, alerts, formats, links)
    _finish_page(sheet, table, last_row=row_number)


def _start_page(book: Workbook, table: _Table, page: int, formats: _Formats, run_id: str) -> Worksheet:
    sheet = book.add_worksheet(_page_name(table.name, page), StreamedSheet)
    print_setup(sheet, run_id=run_id)
    for col, column in enumerate(table.columns):
        sheet.set_column(col, col, column.width)
        sheet.write_string(0, col, column.header, formats.header)
    sheet.freeze_panes(1, 0)
    return sheet


def _finish_page(sheet: Worksheet, table: _Table, *, last_row: int) -> None:
    sheet.autofilter(0, 0, last_row, len(table.columns) - 1)


def _page_name(name: str, page: int) -> str:
    """`name` for the first sheet of a table, `name (page)` for its continuations, within 31 chars."""
    if page == 1:
        return name[:EXCEL_MAX_SHEET_NAME]
    suffix = f" ({page})"
    return name[: EXCEL_MAX_SHEET_NAME - len(suffix)] + suffix


def _write_row(
    sheet: Worksheet,
    row: int,
    values: Row,
    alerts: Sequence[frozenset[str]],
    formats: _Formats,
    links: _LinkBudget,
) -> None:
    """Write one row's cells, each with the type's own method; `alerts` holds each column's alert values."""
    for col, value in enumerate(values):
        # Types in the order of how often they occur: this runs for every cell of every finding.
        if isinstance(value, str):
            style = formats.alert if value in alerts[col] else None
            sheet.write_string(row, col, fit_cell_text(value), style)
        elif value is None:
            continue  # an empty cell, e.g. a finding AWS never dated
        elif isinstance(value, datetime):
            sheet.write_datetime(row, col, value, formats.date)
        elif isinstance(value, _Link):
            if links.left > 0:
                links.left -= 1
                # The shown text is written as a string: a link's text is never a formula either.
                sheet.write_url(row, col, value.target, formats.link, fit_cell_text(value.text))
            else:
                sheet.write_string(row, col, fit_cell_text(value.text))
        elif isinstance(value, date):
            sheet.write_datetime(row, col, value, formats.day)
        else:
            sheet.write_number(row, col, value)


# --- Summary -----------------------------------------------------------------------------------------


class _SummaryLines:
    """Writes the Summary top to bottom, one line at a time, as constant_memory requires."""

    def __init__(
        self, sheet: Worksheet, formats: _Formats, figures: Figures, changes: Changes | None = None
    ) -> None:
        self.sheet = sheet
        self.formats = formats
        self.row = 0
        self._figures = figures
        baseline = changes.baseline if changes is not None else None
        self._previous = baseline.figures if baseline is not None and baseline.usable else None
        when = baseline.started_at if baseline is not None else None
        self._since = f"Since {_excel_time(when):%d %b}" if self._previous and when else ""

    def change(self, field: str) -> int | None:
        """The change of headline figure `field` since the baseline; None without one."""
        if self._previous is None:
            return None
        now: int = getattr(self._figures, field)
        before: int = getattr(self._previous, field)
        return now - before

    def text(self, text: str, style: Format | None = None) -> None:
        self.sheet.write_string(self.row, 0, fit_cell_text(text), style)
        self.row += 1

    def blank(self) -> None:
        self.row += 1

    def section(self, title: str, count_header: str = "", *, with_change: bool = False) -> None:
        """A section's title row; `with_change` heads a column of changes since the baseline."""
        self.sheet.write_string(self.row, 0, title, self.formats.section)
        self.sheet.write_string(self.row, 1, count_header, self.formats.section_figure)
        self.sheet.write_string(self.row, 2, "", self.formats.section)
        if with_change:
            self.sheet.write_string(self.row, 3, self._since, self.formats.section_figure)
        self.row += 1

    def figure(
        self, label: str, value: int, note: str = "", *, alert: bool = False, change: int | None = None
    ) -> int:
        """Write one labelled number (and its change since the baseline); return its row, for charts."""
        self.sheet.write_string(self.row, 0, fit_cell_text(label), self.formats.bad if alert else None)
        self.sheet.write_number(self.row, 1, value, self.formats.figure)
        if note:
            self.sheet.write_string(self.row, 2, note, self.formats.note)
        if change is not None:
            self.sheet.write_number(self.row, 3, change, self.formats.change)
        self.row += 1
        return self.row - 1

    def groups(self, title: str, rows: Sequence[GroupFigures], empty: str) -> None:
        """Write a `By owner` / `By OU` table: resources, accounts, share of compliant rules."""
        headers = ("Non-compliant resources", "Accounts", "Compliant rules")
        self.sheet.write_string(self.row, 0, title, self.formats.section)
        for col, header in enumerate(headers, start=1):
            self.sheet.write_string(self.row, col, header, self.formats.section_figure)
        self.row += 1
        if not rows:
            self.text(empty, self.formats.note)
        for group in rows:
            self.sheet.write_string(self.row, 0, fit_cell_text(group.name))
            self.sheet.write_number(self.row, 1, group.noncompliant_resources, self.formats.figure)
            self.sheet.write_number(self.row, 2, group.accounts, self.formats.figure)
            share = group.compliant_share
            if share is None:
                self.sheet.write_string(self.row, 3, "no rules judged", self.formats.note)
            else:
                self.sheet.write_number(self.row, 3, share, self.formats.percent)
            self.row += 1

    def ranking(self, title: str, items: Sequence[RankedItem], empty: str) -> tuple[int, int]:
        """Write a 'worst' table and return the first and last rows of its items."""
        self.section(title, "Non-compliant resources")
        if not items:
            self.text(empty, self.formats.note)
        first = self.row
        for item in items:
            self.figure(item.name, item.count)
        return first, self.row - 1


def _complete_coverage_sentence(figures: Figures) -> str:
    # "Every region was read" would hide regions that hold no results by the account's own state
    # (Config off or stopped, opt-in region, SCP): they are not gaps, but the reader must see them.
    without_data = figures.regions_total - figures.regions_scanned
    if not without_data:
        return "Coverage complete: every account and region in scope was read."
    return (
        f"Coverage complete: every account was read; {without_data} of {figures.regions_total}"
        " account-region pairs hold no Config results (Config off or stopped, region not enabled"
        " or denied by SCP) — see Coverage below."
    )


def _write_summary(book: Workbook, report: Report, figures: Figures, formats: _Formats) -> None:
    sheet = book.add_worksheet(SUMMARY)
    sheet.hide_gridlines(2)
    # Printed or saved as PDF, the Summary is one landscape page wide, charts included.
    print_setup(sheet, run_id=report.run.run_id, header_rows=0)
    fix_row_heights(sheet)
    sheet.set_row(0, _TITLE_ROW_POINTS)
    sheet.set_column(0, 0, 58)
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, 2, 36)
    sheet.set_column(3, 3, 18)
    out = _SummaryLines(sheet, formats, figures, report.changes)
    run = report.run

    out.text(f"AWS Config compliance report — {_excel_time(run.started_at):%d %B %Y}", formats.title)
    if figures.complete:
        out.text(_complete_coverage_sentence(figures), formats.good)
    elif figures.coverage_gaps:
        out.text(
            f"Coverage incomplete: {figures.coverage_gaps} account-region pair(s) could not be read"
            " — see the Coverage sheet.",
            formats.bad,
        )
    else:
        out.text(
            f"Coverage incomplete: {figures.rules_unread} rule(s) could not be read"
            " — see Read Status on the Rules sheet.",
            formats.bad,
        )
    out.text(_baseline_line(report.changes), formats.note)
    out.blank()

    chart_top = out.row
    out.section("Headline figures", with_change=True)
    out.figure("Accounts in scope", figures.accounts, change=out.change("accounts"))
    out.figure(
        "Accounts fully scanned",
        figures.accounts_fully_scanned,
        _share(figures.accounts_fully_scanned, figures.accounts, "accounts"),
        alert=figures.accounts_fully_scanned < figures.accounts,
        change=out.change("accounts_fully_scanned"),
    )
    out.figure(
        "Non-compliant resources", figures.noncompliant_resources, change=out.change("noncompliant_resources")
    )
    if report.exceptions:
        out.figure(
            "Accepted resources",
            figures.accepted_resources,
            "accepted risks, not counted above (see Accepted)",
            change=out.change("accepted_resources"),
        )
    rule_slices = _rule_slices(figures)
    rule_rows = [
        out.figure(label, count, note, change=out.change(field)) for label, count, note, field in rule_slices
    ]
    out.blank()
    out.section("Coverage (account-region pairs)", with_change=True)
    out.figure(
        "Read",
        figures.regions_scanned,
        _share(figures.regions_scanned, figures.regions_total, "pairs"),
        change=out.change("regions_scanned"),
    )
    for label, field, note in _UNREAD_STATES:
        out.figure(label, getattr(figures, field), note, change=out.change(field))
    out.figure(
        "Could not be read (access denied or error)",
        figures.coverage_gaps,
        "see the Coverage sheet" if figures.coverage_gaps else "",
        alert=figures.coverage_gaps > 0,
        change=out.change("coverage_gaps"),
    )
    out.blank()
    _write_rule_health(out, figures)
    if report.exceptions:
        _exceptions_section(out, report, figures)
    if report.changes is not None and report.changes.baseline.usable:
        _write_changes_section(out, report.changes)
        out.blank()
    worst_rules = out.ranking("Worst rules", figures.worst_rules, "No non-compliant resources.")
    out.blank()
    out.ranking("Worst accounts", figures.worst_accounts, "No non-compliant resources.")
    out.blank()
    out.groups("By owner", by_owner(report, top=SUMMARY_TOP), "No non-compliant resources.")
    out.blank()
    out.groups("By OU", by_ou(report, top=SUMMARY_TOP), "No accounts in scope.")
    trend_rows = _write_trend_section(out, report.trend)
    out.blank()
    out.text(f"Run {run.run_id}, by {run.identity}.", formats.footnote)
    out.text(
        f"Generated {_excel_time(run.finished_at):%Y-%m-%d %H:%M} UTC"
        f" (scan started {_excel_time(run.started_at):%Y-%m-%d %H:%M} UTC)."
        " All times in this workbook are UTC.",
        formats.footnote,
    )
    regions = ", ".join(run.regions) if run.regions else "the regions enabled in each account"
    out.text(f"Regions scanned: {regions}.", formats.footnote)

    charts = ChartStack(sheet, row=chart_top, col=_CHART_COLUMN)
    _insert_compliance_chart(book, charts, (rule_rows[0], rule_rows[-1]), rule_slices)
    if figures.worst_rules:
        _insert_worst_rules_chart(book, charts, worst_rules, figures.worst_rules)
    if report.trend:
        _insert_trend_chart(book, charts, trend_rows, report.trend)


def _write_rule_health(out: _SummaryLines, figures: Figures) -> None:
    """Rules whose results are missing or in doubt, and rules deliberately left out."""
    out.section("Rule health (per account and region)")
    out.figure(
        "Rules that could not be read",
        figures.rules_unread,
        "their regions keep the other rules; see Read Status on the Rules sheet"
        if figures.rules_unread
        else "",
        alert=figures.rules_unread > 0,
    )
    out.figure("Rules whose last evaluation failed", figures.rules_evaluation_failed, "Evaluation FAILED")
    out.figure("Rules not evaluated recently", figures.rules_stale, "Evaluation STALE")
    for item in figures.rules_skipped:
        if item.count:
            out.figure(f"Rules left out: {item.name}", item.count, "not in the Rules sheet")
    out.blank()


def _exceptions_section(out: _SummaryLines, report: Report, figures: Figures) -> None:
    out.section("Accepted exceptions")
    applied = sum(1 for e in report.exceptions if e.status is ExceptionStatus.APPLIED)
    out.figure("Applied", applied, "live, accepting at least one finding")
    out.figure(
        "Expired",
        figures.exceptions_expired,
        "accept nothing any more: renew or fix" if figures.exceptions_expired else "",
        alert=figures.exceptions_expired > 0,
    )
    out.figure(
        "Unused",
        figures.exceptions_unused,
        "match no finding: remove them" if figures.exceptions_unused else "",
        alert=figures.exceptions_unused > 0,
    )
    out.blank()


def _share(part: int, whole: int, noun: str) -> str:
    return f"of {whole:,} {noun} ({part / whole:.0%})" if whole else f"of 0 {noun}"


_UNREAD_STATES = (
    ("AWS Config not enabled", "regions_without_config", "nothing to report there"),
    (
        "AWS Config not recording",
        "regions_not_recording",
        "recorder stopped: results there are stale, not reported",
    ),
    ("Region not enabled in the account", "regions_not_enabled", "opt-in region"),
    ("Denied by an organization policy (SCP)", "regions_denied_by_scp", "region denied"),
)
"""Label, `Figures` field and note of each state of an account-region that is reported, not a gap."""


def _rule_slices(figures: Figures) -> tuple[tuple[str, int, str, str], ...]:
    """Label, count, note and `Figures` field of each slice of the compliance chart, in colour order."""
    return (
        (
            "Non-compliant rules",
            figures.rules_noncompliant,
            "counted per account and region",
            "rules_noncompliant",
        ),
        ("Compliant rules", figures.rules_compliant, "", "rules_compliant"),
        ("Other rules", figures.rules_other, "not applicable or insufficient data", "rules_other"),
    )


def _insert_compliance_chart(
    book: Workbook, charts: ChartStack, rows: tuple[int, int], slices: Sequence[tuple[str, int, str, str]]
) -> None:
    chart = book.add_chart({"type": "doughnut"})
    chart.add_series(
        {
            "name": "Rule compliance",
            "categories": [SUMMARY, rows[0], 0, rows[1], 0],
            "values": [SUMMARY, rows[0], 1, rows[1], 1],
            # constant_memory cannot read cells back for the chart's cache; give the values directly so
            # viewers that do not recalculate (previews, mail clients) still draw the chart.
            "categories_data": [label for label, _, _, _ in slices],
            "values_data": [count for _, count, _, _ in slices],
            "points": [{"fill": {"color": c}} for c in (_NONCOMPLIANT_RED, _COMPLIANT_GREEN, _OTHER_GREY)],
            "data_labels": {"value": True},
        }
    )
    chart.set_title({"name": "Rule compliance (per account and region)"})
    chart.set_legend({"position": "right"})
    charts.add(chart, height=280)


def _insert_worst_rules_chart(
    book: Workbook, charts: ChartStack, rows: tuple[int, int], items: Sequence[RankedItem]
) -> None:
    chart = book.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "Non-compliant resources",
            "categories": [SUMMARY, rows[0], 0, rows[1], 0],
            "values": [SUMMARY, rows[0], 1, rows[1], 1],
            "categories_data": [item.name for item in items],
            "values_data": [item.count for item in items],
            "fill": {"color": _NONCOMPLIANT_RED},
            "data_labels": {"value": True},
        }
    )
    chart.set_title({"name": "Worst rules: non-compliant resources"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})  # a bar chart draws its first category at the bottom
    charts.add(chart, height=80 + 28 * len(items))


# --- Summary: changes since the previous run, and the trend -------------------------------------------


def _baseline_line(changes: Changes | None) -> str:
    """What this report is compared with, or why it is compared with nothing."""
    baseline = changes.baseline if changes is not None else None
    if baseline is None or not baseline.usable or baseline.started_at is None:
        problem = baseline.problem if baseline is not None else "no comparison was made"
        return (
            f"No baseline: {problem}. Statuses and changes start with the next run;"
            " first-seen dates start with this one."
        )
    return (
        f"Compared with the run of {_excel_time(baseline.started_at):%d %B %Y %H:%M} UTC"
        f" ({baseline.run_id}); changes are counted only where both runs read the account and region."
    )


def _write_changes_section(out: _SummaryLines, changes: Changes) -> None:
    out.section("Changes since the previous run", "Findings")
    out.figure(
        "New non-compliant resources", len(changes.new), "see the Changes sheet", alert=bool(changes.new)
    )
    out.figure("Resolved", len(changes.resolved), "see the Changes sheet")
    out.figure("Still non-compliant", changes.persisting, "age in days on the resources sheet")
    out.figure(
        "Not compared",
        changes.not_comparable,
        "account-regions not read in both runs" if changes.not_comparable else "",
    )
    out.text(_accounts_line("Accounts that joined", changes.joined))
    out.text(_accounts_line("Accounts that left (or are no longer in scope)", changes.left))


def _accounts_line(title: str, accounts: Sequence[Account]) -> str:
    if not accounts:
        return f"{title}: none."
    named = [f"{a.name} ({a.id})" for a in accounts[:CHANGES_LISTED_ACCOUNTS]]
    more = len(accounts) - len(named)
    return f"{title}: {', '.join(named)}" + (f" and {more} more." if more else ".")


def _write_trend_section(out: _SummaryLines, entries: Sequence[HistoryEntry]) -> tuple[int, int]:
    """The trend table (week, non-compliant resources, coverage); returns its first and last rows."""
    sheet, formats = out.sheet, out.formats
    sheet.write_string(out.row, 0, "Trend (last 12 weeks): week of the run", formats.section)
    sheet.write_string(out.row, 1, "Non-compliant resources", formats.section_figure)
    sheet.write_string(out.row, 2, "Coverage (pairs read)", formats.section)
    out.row += 1
    first = out.row
    for entry in entries:
        year, week, _ = entry.started_at.isocalendar()
        sheet.write_string(out.row, 0, f"{year}-W{week:02d} ({_excel_time(entry.started_at):%d %b %Y})")
        sheet.write_number(out.row, 1, entry.noncompliant_resources, formats.figure)
        sheet.write_number(out.row, 2, entry.coverage, formats.percent)
        out.row += 1
    return first, out.row - 1


def _insert_trend_chart(
    book: Workbook, charts: ChartStack, rows: tuple[int, int], entries: Sequence[HistoryEntry]
) -> None:
    chart = book.add_chart({"type": "line"})
    weeks = [f"{e.started_at.isocalendar()[0]}-W{e.started_at.isocalendar()[1]:02d}" for e in entries]
    chart.add_series(
        {
            "name": "Non-compliant resources",
            "categories": [SUMMARY, rows[0], 0, rows[1], 0],
            "values": [SUMMARY, rows[0], 1, rows[1], 1],
            "categories_data": weeks,
            "values_data": [e.noncompliant_resources for e in entries],
            "line": {"color": _NONCOMPLIANT_RED, "width": 2.25},
            "marker": {"type": "circle"},
        }
    )
    chart.add_series(
        {
            "name": "Coverage",
            "categories": [SUMMARY, rows[0], 0, rows[1], 0],
            "values": [SUMMARY, rows[0], 2, rows[1], 2],
            "categories_data": weeks,
            "values_data": [e.coverage for e in entries],
            "line": {"color": _COMPLIANT_GREEN, "width": 2.25, "dash_type": "dash"},
            "marker": {"type": "square"},
            "y2_axis": True,
        }
    )
    chart.set_title({"name": "Trend: non-compliant resources and coverage, last 12 weeks"})
    chart.set_y_axis({"name": "Non-compliant resources", "min": 0})
    chart.set_y2_axis({"name": "Coverage", "min": 0, "max": 1, "num_format": "0%"})
    chart.set_legend({"position": "bottom"})
    charts.add(chart, height=_TREND_CHART_HEIGHT)
