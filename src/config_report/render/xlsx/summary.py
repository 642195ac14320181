"""The Summary sheet: the headline figures, coverage, rule health, changes, rankings and the trend.

Written top to bottom, one line at a time, as XlsxWriter's `constant_memory` mode requires, from the
report's figures (computed once, `domain.figures`) and its changes and trend. The charts sit in a
column of their own right of the text (`layout.ChartStack`). A note or line longer than its cells wraps
and its row grows; each section is a block that a printed page does not cut (`layout.PrintedRows`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from config_report.domain.acceptance import EXCEPTION_REQUEST, exception_lines
from config_report.domain.changes import figure_change
from config_report.domain.coverage_words import status_words
from config_report.domain.model import (
    UNUSED_REGIONS,
    Account,
    Changes,
    CoverageStatus,
    ExceptionStatus,
    Figures,
    Finding,
    GroupFigures,
    HistoryEntry,
    RankedItem,
    Report,
)
from config_report.render.xlsx.cells import Formats, excel_time, fit_cell_text
from config_report.render.xlsx.layout import (
    BODY_POINTS,
    ROW_HEIGHT_POINTS,
    ChartStack,
    PrintedRows,
    column_pixels,
    fix_row_heights,
    print_summary,
    wrapped_lines,
)

SUMMARY = "Summary"

_TREND_CHART_HEIGHT = 288  # pixels: twelve weekly points and two axes stay readable
CHANGES_LISTED_ACCOUNTS = 10
"""How many joined or left accounts the Summary names before saying how many more."""

_COMPLIANT_GREEN = "#70AD47"
_NONCOMPLIANT_RED = "#C00000"
_CRITICAL_AMBER = "#ED7D31"
_OTHER_GREY = "#A5A5A5"
_TITLE_ROW_POINTS = 24.0
# The charts' labels: Excel's default is 10 points, which LibreOffice shrinks further to fit long rule names.
_CHART_TEXT = {"size": BODY_POINTS}
# In characters: label, figure, note (or accounts), change, share. With the charts, they fill one printed
# page at `SUMMARY_MIN_PRINT_SCALE`: a column made wider makes another narrower.
_COLUMN_WIDTHS = (52, 24, 28, 14, 18)
_NOTE_COLUMN = 2
_CHART_COLUMN = len(_COLUMN_WIDTHS)  # charts stand right of the Summary's columns of text and figures


@dataclass(frozen=True, slots=True)
class GroupTable:
    """A `By owner` / `By OU` table: its rows, the others' row, and which share its last column shows."""

    rows: Sequence[GroupFigures]
    other: GroupFigures | None
    empty: str
    share_header: str
    share: Callable[[GroupFigures], float | None]


class _SummaryLines:
    """Writes the Summary top to bottom, one line at a time, as constant_memory requires."""

    def __init__(
        self, sheet: Worksheet, formats: Formats, figures: Figures, changes: Changes | None = None
    ) -> None:
        self.sheet = sheet
        self.formats = formats
        self.row = 0
        self.rows = PrintedRows()
        self._pixels = [column_pixels(width) for width in _COLUMN_WIDTHS]
        self._figures = figures
        self._changes = changes
        baseline = changes.baseline if changes is not None else None
        when = baseline.started_at if baseline is not None and baseline.usable else None
        self._since = f"Since {excel_time(when):%d %b}" if when else ""

    def change(self, field: str) -> int | None:
        """The change of headline figure `field` since the baseline; None without one."""
        return figure_change(self._figures, self._changes, field)

    def text(self, text: str, style: Format | None = None) -> None:
        """A line of its own; a plain line or note wider than the text columns wraps across them."""
        text = fit_cell_text(text)
        wrapped = {None: self.formats.wrapped, id(self.formats.note): self.formats.note_wrapped}
        wrap = wrapped.get(id(style) if style is not None else None)
        if wrap is not None and self._grow(text, sum(self._pixels)):
            self.sheet.merge_range(self.row, 0, self.row, len(self._pixels) - 1, "", wrap)
            style = wrap
        self.sheet.write_string(self.row, 0, text, style)
        self.row += 1

    def text_or_link(self, text: str, target: str) -> None:
        """`text`, linking to `target` when it is an https:// link (the settings only allow those)."""
        if target.startswith("https://"):
            self.sheet.write_url(self.row, 0, target, self.formats.link, string=fit_cell_text(text))
            self.row += 1
        else:
            self.text(text)

    def _grow(self, text: str, width_pixels: int) -> bool:
        """Make the row tall enough for `text` wrapped in `width_pixels`; whether it needs wrapping."""
        lines = wrapped_lines(text, width_pixels)
        if lines > 1 and lines * ROW_HEIGHT_POINTS > self.rows.height(self.row):
            self.sheet.set_row(self.row, lines * ROW_HEIGHT_POINTS)
            self.rows.set_height(self.row, lines * ROW_HEIGHT_POINTS)
        return lines > 1

    def blank(self) -> None:
        self.rows.mark_blank(self.row)
        self.row += 1

    def section(self, title: str, count_header: str = "", *, with_change: bool = False) -> None:
        """A section's title row; `with_change` heads a column of changes since the baseline."""
        self.rows.start_block(self.row)
        self.sheet.write_string(self.row, 0, title, self.formats.section)
        self.sheet.write_string(self.row, 1, count_header, self.formats.section_figure)
        self.sheet.write_string(self.row, 2, "", self.formats.section)
        if with_change:
            self.sheet.write_string(self.row, 3, self._since, self.formats.section_figure)
        self.row += 1

    def figure(
        self,
        label: str,
        value: int,
        note: str = "",
        *,
        alert: bool = False,
        warn: bool = False,
        change: int | None = None,
    ) -> int:
        """Write one labelled number (and its change since the baseline); return its row, for charts.

        `alert` marks what the report is missing (red), `warn` what the organization must fix (amber).
        """
        style = self.formats.bad if alert else self.formats.warn if warn else None
        self.sheet.write_string(self.row, 0, fit_cell_text(label), style)
        self.sheet.write_number(self.row, 1, value, self.formats.figure)
        if note:
            # Beside an empty change column a note may run on into it; beside a change it wraps.
            room = self._pixels[_NOTE_COLUMN] + (self._pixels[_NOTE_COLUMN + 1] if change is None else 0)
            wraps = self._grow(note, room)
            note_style = self.formats.note_wrapped if wraps else self.formats.note
            self.sheet.write_string(self.row, _NOTE_COLUMN, note, note_style)
        if change is not None:
            self.sheet.write_number(self.row, 3, change, self.formats.change)
        self.row += 1
        return self.row - 1

    def groups(self, title: str, table: GroupTable) -> None:
        """Write a `By owner` / `By OU` table: resources, accounts, change, and a share; then the others."""
        headers = ("Non-compliant resources", "Accounts", self._since, table.share_header)
        self.rows.start_block(self.row)
        self.sheet.write_string(self.row, 0, title, self.formats.section)
        for col, header in enumerate(headers, start=1):
            self.sheet.write_string(self.row, col, header, self.formats.section_figure)
        self.row += 1
        if not table.rows:
            self.text(table.empty, self.formats.note)
        for group in (*table.rows, *((table.other,) if table.other else ())):
            label_style = self.formats.note if group is table.other else None
            self.sheet.write_string(self.row, 0, fit_cell_text(group.name), label_style)
            self.sheet.write_number(self.row, 1, group.noncompliant_resources, self.formats.figure)
            self.sheet.write_number(self.row, 2, group.accounts, self.formats.figure)
            if group.change is not None:
                self.sheet.write_number(self.row, 3, group.change, self.formats.change)
            share = table.share(group)
            if share is None:
                self.sheet.write_string(self.row, 4, "no rules judged", self.formats.note)
            else:
                self.sheet.write_number(self.row, 4, share, self.formats.percent)
            self.row += 1

    def ranking(
        self, title: str, items: Sequence[RankedItem], other: RankedItem | None, empty: str
    ) -> tuple[int, int]:
        """Write a 'worst' table (with its change, then the others' row); return its items' first and
        last rows, for the chart, which leaves the others out."""
        self.section(title, "Non-compliant resources", with_change=True)
        if not items:
            self.text(empty, self.formats.note)
        first = self.row
        for item in items:
            self.figure(item.name, item.count, _ranking_note(item), change=item.change)
        last = self.row - 1
        if other is not None:
            self.figure(
                other.name, other.count, "a resource failing several of them counts once", change=other.change
            )
        return first, last


def _ranking_note(item: RankedItem) -> str:
    """What ranks an item before the count: a rule's severity, an account's critical and high resources."""
    if item.severity is not None:
        return item.severity.value
    if item.critical_high:
        return f"{item.critical_high:,} critical or high"
    return ""


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


def write_summary(book: Workbook, report: Report, formats: Formats, *, continued: Sequence[str] = ()) -> None:
    """The Summary sheet of `report`, first in the workbook; `continued` says, a line each, which
    tables continue on further sheets (Excel holds 1,048,576 rows a sheet)."""
    figures = report.figures
    sheet = book.add_worksheet(SUMMARY)
    sheet.hide_gridlines(2)
    fix_row_heights(sheet)
    for col, width in enumerate(_COLUMN_WIDTHS):
        sheet.set_column(col, col, width)
    out = _SummaryLines(sheet, formats, figures, report.changes)
    sheet.set_row(0, _TITLE_ROW_POINTS)
    out.rows.set_height(0, _TITLE_ROW_POINTS)
    run = report.run

    out.text(f"AWS Config compliance report — {excel_time(run.started_at):%d %B %Y}", formats.title)
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
    for line in continued:
        out.text(line, formats.note)
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
        "Non-compliant resources",
        figures.noncompliant_resources,
        "distinct: one failing several rules or regions counts once",
        change=out.change("noncompliant_resources"),
    )
    out.figure(
        "Critical and high",
        figures.critical_high_resources,
        "of these, failing a CRITICAL or HIGH rule (see Severity)",
        warn=figures.critical_high_resources > 0,
        change=out.change("critical_high_resources"),
    )
    out.figure(
        "Failing evaluations",
        figures.failing_evaluations,
        "resource × rule × region: the Rules sheet's sum",
        change=out.change("failing_evaluations"),
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
    for label, field, status in _UNREAD_STATES:
        out.figure(label, getattr(figures, field), status_words(status).note, change=out.change(field))
    out.figure(
        "Could not be read (access denied or error)",
        figures.coverage_gaps,
        "see the Coverage sheet" if figures.coverage_gaps else "",
        alert=figures.coverage_gaps > 0,
        change=out.change("coverage_gaps"),
    )
    out.blank()
    _write_regions(out, figures)
    _write_rule_health(out, figures)
    if report.exceptions or report.exception_request:
        _exceptions_section(out, report)
    if report.changes is not None and report.changes.baseline.usable:
        _write_changes_section(out, report.changes, report.account_names())
        out.blank()
    worst_rules = out.ranking(
        "Worst rules", figures.worst_rules, figures.worst_rules_other, "No non-compliant resources."
    )
    out.blank()
    out.ranking(
        "Worst accounts", figures.worst_accounts, figures.worst_accounts_other, "No non-compliant resources."
    )
    out.blank()
    headline = figures.noncompliant_resources
    out.groups(
        "By owner",
        GroupTable(
            figures.by_owner,
            figures.by_owner_other,
            "No non-compliant resources.",
            "Share of resources",
            lambda g: g.noncompliant_resources / headline if headline else None,
        ),
    )
    out.blank()
    out.groups(
        "By OU",
        GroupTable(
            figures.by_ou,
            figures.by_ou_other,
            "No accounts in scope.",
            "Compliant rules",
            lambda g: g.compliant_share,
        ),
    )
    out.blank()
    trend_rows = _write_trend_section(out, report.trend)
    out.blank()
    out.text(f"Run {run.run_id}, by {run.identity}.", formats.footnote)
    out.text(
        f"Generated {excel_time(run.finished_at):%Y-%m-%d %H:%M} UTC"
        f" (scan started {excel_time(run.started_at):%Y-%m-%d %H:%M} UTC)."
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
    # Printed or saved as PDF, the Summary is one landscape page wide, charts included.
    print_summary(
        sheet, run_id=run.run_id, column_widths=_COLUMN_WIDTHS, charts=charts, rows=out.rows, end=out.row
    )


def _write_regions(out: _SummaryLines, figures: Figures) -> None:
    """Where the organization uses AWS Config, and where its detective control is broken."""
    out.section("AWS Config by region", "Accounts recording")
    unused = figures.regions_unused
    if unused:
        out.text(f"{UNUSED_REGIONS}: {', '.join(unused)}", out.formats.note)
    for n, use in enumerate(u for u in figures.regions if not u.unused):
        if n:  # a long list may go on over a page, each region with its accounts
            out.rows.start_block(out.row)
        out.figure(use.region, use.recording, use.note(), warn=bool(use.broken))
        # One account a line: a long list in one cell would run off the printed page.
        for label in use.named():
            out.text(label, out.formats.listed)
    out.blank()


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
    out.figure(
        "Periodic rules that stopped running",
        figures.rules_stale,
        "Evaluation STALE: late by their own frequency",
    )
    for item in figures.rules_skipped:
        if item.count:
            out.figure(f"Rules left out: {item.name}", item.count, "not in the Rules sheet")
    out.blank()


def _exceptions_section(out: _SummaryLines, report: Report) -> None:
    """How the accepted exceptions fared (the expired and unused ones named), and how to ask for one."""
    figures = report.figures
    out.section("Accepted exceptions")
    if report.exceptions:
        out.figure("Applied", figures.exceptions_applied, "live, accepting at least one finding")
        out.figure(
            "Expired",
            figures.exceptions_expired,
            "accept nothing any more: renew or fix" if figures.exceptions_expired else "",
            warn=figures.exceptions_expired > 0,
        )
        for line in exception_lines(report, ExceptionStatus.EXPIRED):
            out.text(line, out.formats.listed)
        out.figure(
            "Unused",
            figures.exceptions_unused,
            "match no finding: remove them" if figures.exceptions_unused else "",
            warn=figures.exceptions_unused > 0,
        )
        for line in exception_lines(report, ExceptionStatus.UNUSED):
            out.text(line, out.formats.listed)
    if report.exception_request:
        out.text_or_link(f"{EXCEPTION_REQUEST}: {report.exception_request}", report.exception_request)
    out.blank()


def _share(part: int, whole: int, noun: str) -> str:
    return f"of {whole:,} {noun} ({part / whole:.0%})" if whole else f"of 0 {noun}"


_UNREAD_STATES = (
    ("AWS Config not enabled", "regions_without_config", CoverageStatus.CONFIG_NOT_ENABLED),
    ("AWS Config not recording", "regions_not_recording", CoverageStatus.CONFIG_NOT_RECORDING),
    ("AWS Config recorder failing", "regions_recorder_failing", CoverageStatus.CONFIG_RECORDER_FAILING),
    ("Region not enabled in the account", "regions_not_enabled", CoverageStatus.REGION_NOT_ENABLED),
    ("Denied by an organization policy (SCP)", "regions_denied_by_scp", CoverageStatus.DENIED_BY_SCP),
)
"""Label, `Figures` field and status of each state of an account-region that is reported, not a gap
(its note is the status's own, `coverage_words`)."""


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
            "data_labels": {"value": True, "font": _CHART_TEXT},
        }
    )
    chart.set_title({"name": "Rule compliance (per account and region)"})
    chart.set_legend({"position": "right", "font": _CHART_TEXT})
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
            "data_labels": {"value": True, "font": _CHART_TEXT},
        }
    )
    chart.set_title({"name": "Worst rules: non-compliant resources"})
    chart.set_legend({"none": True})
    # Each bar is labelled with its value: the value axis's numbers would only crowd the narrow chart.
    chart.set_x_axis({"visible": False, "major_gridlines": {"visible": False}})
    # A bar chart draws its first category at the bottom.
    chart.set_y_axis({"reverse": True, "num_font": _CHART_TEXT})
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
        f"Compared with the run of {excel_time(baseline.started_at):%d %B %Y %H:%M} UTC"
        f" ({baseline.run_id}); changes are counted only where both runs read the account and region."
    )


def _write_changes_section(out: _SummaryLines, changes: Changes, names: Mapping[str, str]) -> None:
    """New and resolved, counted only where both runs read; and what could not be compared."""
    out.section("Changes since the previous run (where both runs read)", "Count")
    out.figure(
        "Newly non-compliant resources",
        changes.new_resources,
        "distinct resources",
        alert=bool(changes.new_resources),
    )
    out.figure("Resources no longer non-compliant", changes.resolved_resources, "distinct resources")
    out.figure("New failing evaluations", len(changes.new), "see the Changes sheet", alert=bool(changes.new))
    out.figure("Resolved failing evaluations", len(changes.resolved), "see the Changes sheet")
    out.figure("Still failing", changes.persisting, "age in days on the resources sheet")
    out.figure(
        "Not compared: this run's findings",
        changes.not_comparable,
        "in account-regions not read in both runs" if changes.not_comparable else "",
    )
    out.figure(
        "Not compared: the previous run's findings",
        len(changes.not_read_now),
        "in places not read this run: not resolved, not counted" if changes.not_read_now else "",
        alert=bool(changes.not_read_now),
    )
    if changes.not_read_now:
        out.text(_places_line("Not read this run", changes.not_read_now, names), out.formats.note)
    out.text(_accounts_line("Accounts that joined", changes.joined))
    out.text(_accounts_line("Accounts that left (or are no longer in scope)", changes.left))


def _places_line(title: str, findings: Sequence[Finding], names: Mapping[str, str]) -> str:
    """The account-regions holding `findings`, by account, the first few named."""
    regions: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        regions[finding.account_id].add(finding.region)
    named = [
        f"{names.get(account, '')} ({account}) {', '.join(sorted(regions[account]))}"
        for account in sorted(regions)[:CHANGES_LISTED_ACCOUNTS]
    ]
    more = len(regions) - len(named)
    return f"{title}: {'; '.join(named)}" + (f" and {more} more accounts." if more else ".")


def _accounts_line(title: str, accounts: Sequence[Account]) -> str:
    if not accounts:
        return f"{title}: none."
    named = [f"{a.name} ({a.id})" for a in accounts[:CHANGES_LISTED_ACCOUNTS]]
    more = len(accounts) - len(named)
    return f"{title}: {', '.join(named)}" + (f" and {more} more." if more else ".")


def _write_trend_section(out: _SummaryLines, entries: Sequence[HistoryEntry]) -> tuple[int, int]:
    """The trend table (week, non-compliant resources, coverage, critical and high); returns its first
    and last rows."""
    sheet, formats = out.sheet, out.formats
    out.rows.start_block(out.row)
    sheet.write_string(out.row, 0, "Trend (last 12 weeks): week of the run", formats.section)
    # Headers of numbers align right, over their numbers: side by side, two never run together.
    sheet.write_string(out.row, 1, "Non-compliant resources", formats.section_figure)
    sheet.write_string(out.row, 2, "Coverage (pairs read)", formats.section_figure)
    # Column E, the wider: beside column D's narrow changes, the header would run into the one before.
    sheet.write_string(out.row, 4, "Critical and high", formats.section_figure)
    out.row += 1
    first = out.row
    for entry in entries:
        year, week, _ = entry.started_at.isocalendar()
        sheet.write_string(out.row, 0, f"{year}-W{week:02d} ({excel_time(entry.started_at):%d %b %Y})")
        if entry.noncompliant_resources is not None:  # a line from before resources were counted once
            sheet.write_number(out.row, 1, entry.noncompliant_resources, formats.figure)
        sheet.write_number(out.row, 2, entry.coverage, formats.percent)
        if entry.critical_high_resources is not None:  # a line from before severities were rated
            sheet.write_number(out.row, 4, entry.critical_high_resources, formats.figure)
        out.row += 1
    return first, out.row - 1


def _insert_trend_chart(
    book: Workbook, charts: ChartStack, rows: tuple[int, int], entries: Sequence[HistoryEntry]
) -> None:
    chart = book.add_chart({"type": "line"})
    weeks = [f"{e.started_at.isocalendar()[0]}-W{e.started_at.isocalendar()[1]:02d}" for e in entries]
    # One line per column of the trend table: its header, column, values, colour and marker.
    lines: tuple[tuple[str, int, list[int | None] | list[float], str, str], ...] = (
        (
            "Non-compliant resources",
            1,
            [e.noncompliant_resources for e in entries],
            _NONCOMPLIANT_RED,
            "circle",
        ),
        ("Critical and high", 4, [e.critical_high_resources for e in entries], _CRITICAL_AMBER, "diamond"),
        ("Coverage", 2, [e.coverage for e in entries], _COMPLIANT_GREEN, "square"),
    )
    for name, column, values, colour, marker in lines:
        coverage = name == "Coverage"  # a share, on its own axis, dashed
        chart.add_series(
            {
                "name": name,
                "categories": [SUMMARY, rows[0], 0, rows[1], 0],
                "values": [SUMMARY, rows[0], column, rows[1], column],
                "categories_data": weeks,
                "values_data": values,
                "line": {"color": colour, "width": 2.25, **({"dash_type": "dash"} if coverage else {})},
                "marker": {"type": marker},
                "y2_axis": coverage,
            }
        )
    chart.set_title({"name": "Trend: non-compliant resources, critical and high, coverage; 12 weeks"})
    fonts = {"num_font": _CHART_TEXT, "name_font": _CHART_TEXT}
    chart.set_x_axis({"num_font": _CHART_TEXT})
    chart.set_y_axis({"name": "Non-compliant resources", "min": 0, **fonts})
    chart.set_y2_axis({"name": "Coverage", "min": 0, "max": 1, "num_format": "0%", **fonts})
    chart.set_legend({"position": "bottom", "font": _CHART_TEXT})
    charts.add(chart, height=_TREND_CHART_HEIGHT)
