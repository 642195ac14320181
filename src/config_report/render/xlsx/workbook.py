"""The Excel workbook: what a person opens on Monday morning.

Sheet names, their order and their headers are a contract (DESIGN.md, "The workbook"). The workbook is
streamed with XlsxWriter's `constant_memory` mode: a row is flushed to disk as soon as the next one
starts, so every sheet is written strictly top to bottom, and `Summary`, which comes first, is built from
the report's figures alone (`summary.py`). Rows are produced lazily from the `Report`; nothing here holds
a list of them. Every cell follows `cells.py`: text stays text, never a formula. The tables' sheets are
`StreamedSheet`s, which write a row of plain cells as one piece of XML with the very bytes XlsxWriter
writes (docs/benchmarks.md: 43 % less CPU for 500,000 findings cell by cell, 21–24 % less again
row by row).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from xlsxwriter import Workbook
from xlsxwriter.exceptions import XlsxFileError
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from config_report.domain.catalogue import CatalogueEntry, build_catalogue, catalogue_rows
from config_report.domain.coverage_words import status_words
from config_report.domain.figures import compliant_share
from config_report.domain.model import (
    AccountStatus,
    Compliance,
    CoverageStatus,
    EvaluationFlag,
    ExceptionStatus,
    Finding,
    FindingStatus,
    Report,
)
from config_report.domain.partitions import config_timeline_url
from config_report.domain.severity import Severity
from config_report.errors import PublishError
from config_report.render.xlsx.cells import Formats, excel_time, excel_time_or_none, fit_cell_text
from config_report.render.xlsx.layout import BODY_POINTS, print_setup
from config_report.render.xlsx.streamsheet import EXCEL_MAX_LINKS, CellValue, LinkCell, StreamedSheet
from config_report.render.xlsx.summary import write_summary

EXCEL_MAX_ROWS = 1_048_576
"""Rows per sheet, header included; XlsxWriter silently drops rows past it, so sheets split before."""

EXCEL_MAX_SHEET_NAME = 31

NOT_READ = "not read"
"""A count the report cannot give because the place was not read: never 0, which would read as clean."""

# Past EXCEL_MAX_LINKS (streamsheet.py) a link's text is written alone (a URL as plain text, a rule's
# normalized name as the key to look it up), so no row loses a cell.

EXCEL_MAX_URL = 2_079
"""Characters Excel keeps of a URL, and of its part after `#` (XlsxWriter drops a longer link's cell)."""

# The sheets after the Summary, in the order DESIGN.md fixes (the exceptions' sheet only with a file).
ACCOUNTS = "Accounts"
RULES = "Rules"
FINDINGS = "Non-compliant resources"
COVERAGE = "Coverage"
CHANGES = "Changes"
CATALOGUE = "Rule catalogue"
EXCEPTIONS = "Accepted exceptions"


_WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # Belt and braces: write_string never converts, but nothing else should either.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    # Top-aligned cells: where a Summary note wraps over several lines, its label and figures read beside
    # its first line. (The defaults XlsxWriter would otherwise use: Calibri 11.)
    "default_format_properties": {"font_name": "Calibri", "font_size": BODY_POINTS, "valign": "top"},
}


@dataclass(frozen=True, slots=True)
class _Link:
    """A cell showing `text` that links to `target` (`internal:'Sheet'!A1` or an https URL)."""

    text: str
    target: str


@dataclass(frozen=True, slots=True)
class _Percent:
    """A share shown as a percentage; `signed` for a change of one (in points)."""

    value: float
    signed: bool = False


Cell = str | int | float | datetime | date | _Link | _Percent | None
Row = tuple[Cell, ...]


@dataclass(slots=True)
class _LinkBudget:
    """Links left on the sheet being written: past Excel's limit a link is written as plain text."""

    left: int


@dataclass(frozen=True, slots=True)
class _Limits:
    """How much one sheet may hold: rows (its header included) and hyperlinks."""

    rows: int
    links: int


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
_URGENT = frozenset({Severity.CRITICAL.value, Severity.HIGH.value})
_INCOMPLETE_ACCOUNTS = frozenset(s.value for s in AccountStatus if not s.complete)

_ACCOUNTS_TABLE = _Table(
    ACCOUNTS,
    (
        _Column("Account ID", 15),
        _Column("Account Name", 30),
        _Column("OU", 24),
        _Column("Scan Status", 16, alert=_INCOMPLETE_ACCOUNTS),
        _Column("Regions Scanned", 18),
        _Column("Regions Without Config", 25),
        _Column("Regions Not Readable", 23),
        _Column("Non-compliant Rules", 22, alert=frozenset({NOT_READ})),
        _Column("Non-compliant Resources", 26, alert=frozenset({NOT_READ})),
        _Column("Compliance Share", 19),
        _Column("Compliance Share Change", 26),
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
        _Column("Severity", 15, alert=_URGENT),
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
        _Column("Severity", 15, alert=_URGENT),
        _Column("Status", 13, alert=frozenset({FindingStatus.NEW.value})),
        _Column("First Seen", 12),
        _Column("Age (days)", 11),
        _Column("Accepted", 48),
        _Column("Owner", 28),
        _Column("Owner Source", 24),
        _Column("Normalized Rule Name", 40),
        _Column("Rule Docs", 60),
        _Column("Console", 60),
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
        _Column("AWS Message", 80),
    ),
)
_CHANGES_TABLE = _Table(
    CHANGES,
    (
        _Column("Status", 13, alert=frozenset({FindingStatus.NEW.value})),
        *_FINDINGS_TABLE.columns[:9],
        _Column("Owner", 28),
        _Column("OU", 24),
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
        _Column("Severity", 15, alert=_URGENT),
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
        _Column("Exception", 48),
        _Column("Account", 15),
        _Column("Region", 14),
        _Column("Rule", 40),
        _Column("Resource", 36),
        _Column("Reason", 48),
        _Column("Ticket", 14),
        _Column("Expires", 12),
        _Column("Status", 12, alert=frozenset({ExceptionStatus.EXPIRED.value, ExceptionStatus.UNUSED.value})),
        _Column("Findings", 10),
        _Column("Defined At", 24),
    ),
)


def write_workbook(
    report: Report, path: Path, *, max_rows: int = EXCEL_MAX_ROWS, max_links: int = EXCEL_MAX_LINKS
) -> Path:
    """Write `report` as an .xlsx workbook at `path` and return `path`.

    `max_rows` is the most rows a sheet may hold, its header included; a table longer than that
    continues on `<name> (2)`, `<name> (3)`, … each with its own header. `max_links` is the most
    hyperlinks a sheet may hold; past them a link's text is written alone. Only tests should lower
    either. Raises `PublishError` when the file cannot be written.
    """
    if not 2 <= max_rows <= EXCEL_MAX_ROWS:
        raise ValueError(f"max_rows must be between 2 and {EXCEL_MAX_ROWS}, not {max_rows}")
    if not 0 <= max_links <= EXCEL_MAX_LINKS:
        raise ValueError(f"max_links must be between 0 and {EXCEL_MAX_LINKS}, not {max_links}")
    limits = _Limits(max_rows, max_links)
    try:
        # Opening the file first makes a bad destination fail before XlsxWriter has opened the temporary
        # files of constant_memory, which it only closes when it succeeds.
        with path.open("wb") as target, Workbook(target, _WORKBOOK_OPTIONS) as book:
            _write_sheets(book, report, limits)
    except (OSError, XlsxFileError) as exc:
        raise PublishError(f"could not write the workbook {path}: {exc}") from exc
    return path


def _write_sheets(book: Workbook, report: Report, limits: _Limits) -> None:
    book.set_properties(
        {
            "title": f"AWS Config compliance report {report.run.run_id}",
            "author": "config-report",
            "created": excel_time(report.run.finished_at),
        }
    )
    formats = Formats.add_to(book)
    names = report.account_names()
    write_summary(book, report, formats, continued=continued_sheets(report, limits.rows))

    def table(spec: _Table, rows: Iterable[Row]) -> None:
        _write_table(book, spec, rows, formats, limits, report.run.run_id)

    table(_ACCOUNTS_TABLE, _account_rows(report))
    catalogue = build_catalogue(report)
    table(_RULES_TABLE, _rule_rows(report, names, catalogue_rows(catalogue)))
    docs = {entry.name: entry.docs_url for entry in catalogue}
    table(_FINDINGS_TABLE, _finding_rows(report, names, docs))
    table(_COVERAGE_TABLE, _coverage_rows(report, names))
    table(_CHANGES_TABLE, _change_rows(report, names))
    table(_CATALOGUE_TABLE, _catalogue_entry_rows(catalogue))
    if report.exceptions:
        table(_EXCEPTIONS_TABLE, _exception_rows(report))


# --- data sheets -------------------------------------------------------------------------------------


def _account_rows(report: Report) -> Iterator[Row]:
    """One row per account, the least compliant first (compliant ÷ judged rules), then those with no
    rule judged, in account order."""
    resources = report.figures.account_resources
    changes = report.changes.share_changes if report.changes and report.changes.baseline.usable else {}
    shares = {scan.account.id: compliant_share(scan.rules) for scan in report.scans}
    for scan in sorted(report.scans, key=lambda s: _share_order(shares[s.account.id])):
        account = scan.account
        share, change = shares[account.id], changes.get(account.id)
        statuses = [c.status for c in scan.coverage]
        # An account none of whose regions could be read is not clean: its counts are unknown.
        rules: Cell = sum(1 for r in scan.rules if r.compliance is Compliance.NON_COMPLIANT)
        failing: Cell = resources.get(account.id, 0)
        if scan.unread:
            rules = failing = NOT_READ
        yield (
            account.id,
            account.name,
            account.ou,
            scan.status.value,
            statuses.count(CoverageStatus.OK),
            statuses.count(CoverageStatus.CONFIG_NOT_ENABLED),
            sum(1 for s in statuses if s.is_gap),
            rules,
            failing,
            _Percent(share) if share is not None and not scan.unread else None,
            _Percent(change, signed=True) if change is not None else None,
            account.email,
        )


def _share_order(share: float | None) -> float:
    return 2.0 if share is None else share


def _catalogue_link(text: str, row: int | None) -> Cell:
    return text if row is None else _Link(text, f"internal:'{CATALOGUE}'!A{row + 1}")


def _catalogue_entry_rows(entries: Iterable[CatalogueEntry]) -> Iterator[Row]:
    for e in entries:
        yield (
            e.name,
            e.source,
            e.identifier,
            e.severity.value,
            e.description,
            e.created_by,
            _url(e.docs_url),
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
            r.severity.value,
            r.normalized_name,
            r.state,
            r.read_status.value,
            r.read_detail,
            r.evaluation_flag.value if r.evaluation_flag else "",
            excel_time_or_none(r.last_successful_evaluation),
            excel_time_or_none(r.last_failed_evaluation),
            r.last_error_code,
        )


def _url(url: str) -> _Link | None:
    """A link that shows its own URL, so that past the link budget the cell still holds it."""
    return _Link(url, url) if url else None


def _finding_rows(report: Report, names: dict[str, str], docs: dict[str, str]) -> Iterator[Row]:
    """`docs`: each normalized rule name's documentation page ('' for custom rules)."""
    today = report.run.started_at.date()
    for f in report.findings():
        yield (
            *_finding_cells(f, names),
            f.severity.value,
            f.status.value if f.status else None,
            *_age_cells(f, today),
            f.accepted.label() if f.accepted else f.lapsed.expired_label() if f.lapsed else None,
            f.owner.name if f.owner else None,
            f.owner.source_label() if f.owner else None,
            f.normalized_name,
            _url(docs.get(f.normalized_name, "")),
            _url(config_timeline_url(f.region, f.resource_type, f.resource_id)),
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
        excel_time_or_none(f.last_evaluated),
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
    ous = {a.id: a.ou for a in report.accounts}
    for f in (*report.changes.new, *report.changes.resolved):
        status = f.status.value if f.status else None
        owner = f.owner.name if f.owner else None
        yield (
            status,
            *_finding_cells(f, names),
            f.severity.value,
            owner,
            ous.get(f.account_id),
            *_age_cells(f, today),
        )


def _coverage_rows(report: Report, names: dict[str, str]) -> Iterator[Row]:
    """Each account × region: its status, what that means and the fix, then what AWS said."""
    for c in report.coverage():
        words = status_words(c.status).detail(c.detail)
        yield (c.account_id, names.get(c.account_id, ""), c.region, c.status.value, words, c.detail)


def _exception_rows(report: Report) -> Iterator[Row]:
    for e in report.exceptions:
        accepted = e.acceptance
        yield (
            e.title(),
            e.account,
            e.region,
            e.rule,
            e.resource,
            accepted.reason,
            accepted.ticket,
            f"{accepted.expires:%Y-%m-%d}",
            e.status.value,
            e.findings,
            e.source,
        )


def _write_table(
    book: Workbook, table: _Table, rows: Iterable[Row], formats: Formats, limits: _Limits, run_id: str
) -> None:
    """Stream `rows` under `table`'s header, continuing on a numbered sheet before `limits.rows`."""
    page = 1
    sheet = _start_page(book, table, page, formats, run_id)
    links = _LinkBudget(limits.links)
    alerts = tuple(column.alert for column in table.columns)
    row_number = 0
    for row in rows:
        row_number += 1
        if row_number == limits.rows:
            _finish_page(sheet, table, last_row=row_number - 1)
            page += 1
            sheet = _start_page(book, table, page, formats, run_id)
            links = _LinkBudget(limits.links)
            row_number = 1
        _write_row(sheet, row_number, row, alerts, formats, links)
    _finish_page(sheet, table, last_row=row_number)


def _start_page(book: Workbook, table: _Table, page: int, formats: Formats, run_id: str) -> StreamedSheet:
    sheet: StreamedSheet = book.add_worksheet(_page_name(table.name, page), StreamedSheet)
    print_setup(sheet, run_id=run_id, columns=[(column.header, column.width) for column in table.columns])
    for col, column in enumerate(table.columns):
        sheet.set_column(col, col, column.width)
        sheet.write_string(0, col, column.header, formats.header)
    sheet.freeze_panes(1, 0)
    return sheet


def _finish_page(sheet: Worksheet, table: _Table, *, last_row: int) -> None:
    sheet.autofilter(0, 0, last_row, len(table.columns) - 1)


def _fits_a_link(target: str) -> bool:
    """True when Excel keeps `target` as a link: both its parts, before and after `#`, short enough."""
    if len(target) <= EXCEL_MAX_URL // 2:  # fits however many UTF-16 units each character takes
        return True
    return all(len(part.encode("utf-16-le")) <= 2 * EXCEL_MAX_URL for part in target.split("#", 1))


def continued_sheets(report: Report, max_rows: int = EXCEL_MAX_ROWS) -> tuple[str, ...]:
    """One line for each table too long for one sheet: its rows and the sheets they continue on.

    Counted before any sheet is written, so that the Summary, written first, can say it.
    """
    changes = report.changes
    counts = (
        (_ACCOUNTS_TABLE.name, len(report.scans)),
        (_RULES_TABLE.name, sum(len(s.rules) for s in report.scans)),
        (_FINDINGS_TABLE.name, sum(len(s.findings) for s in report.scans)),
        (_COVERAGE_TABLE.name, sum(len(s.coverage) for s in report.scans)),
        (_CHANGES_TABLE.name, len(changes.new) + len(changes.resolved) if changes else 0),
    )
    lines = []
    for name, rows in counts:
        pages = -(-rows // (max_rows - 1))  # each sheet holds max_rows - 1 rows under its header
        if pages > 1:
            sheets = ", ".join(f"'{_page_name(name, page)}'" for page in range(2, pages + 1))
            lines.append(f"{name}: {rows:,} rows, more than a sheet holds: continued on {sheets}.")
    return tuple(lines)


def _page_name(name: str, page: int) -> str:
    """`name` for the first sheet of a table, `name (page)` for its continuations, within 31 chars."""
    if page == 1:
        return name[:EXCEL_MAX_SHEET_NAME]
    suffix = f" ({page})"
    return name[: EXCEL_MAX_SHEET_NAME - len(suffix)] + suffix


def _write_row(
    sheet: StreamedSheet,
    row: int,
    values: Row,
    alerts: Sequence[frozenset[str]],
    formats: Formats,
    links: _LinkBudget,
) -> None:
    """Write one row's cells, each as its type is shown; `alerts` holds each column's alert values."""
    cells: list[tuple[int, CellValue, Format | None]] = []
    for col, value in enumerate(values):
        # Types in the order of how often they occur: this runs for every cell of every finding.
        if isinstance(value, str):
            cells.append((col, fit_cell_text(value), formats.alert if value in alerts[col] else None))
        elif value is None:
            continue  # an empty cell, e.g. a finding AWS never dated
        elif isinstance(value, datetime):
            cells.append((col, value, formats.date))
        elif isinstance(value, _Link):
            if links.left > 0 and _fits_a_link(value.target):
                links.left -= 1
                # The shown text is written as a string: a link's text is never a formula either.
                cells.append((col, LinkCell(value.target, fit_cell_text(value.text)), formats.link))
            else:
                cells.append((col, fit_cell_text(value.text), None))
        elif isinstance(value, date):
            cells.append((col, value, formats.day))
        elif isinstance(value, _Percent):
            cells.append((col, value.value, formats.points if value.signed else formats.percent))
        else:
            cells.append((col, value, None))
    sheet.write_cells(row, cells)
