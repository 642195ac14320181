"""The words of the weekly ticket: summary, description and the comment each later run adds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from config_report.domain.acceptance import EXCEPTION_REQUEST, exception_lines
from config_report.domain.model import (
    UNUSED_REGIONS,
    Account,
    Changes,
    ExceptionStatus,
    Figures,
    Finding,
    RankedItem,
    Report,
)
from config_report.jira._document import (
    Block,
    BulletList,
    Document,
    Heading,
    Inline,
    Link,
    Paragraph,
    Text,
)
from config_report.jira._gaps import GapGroup, region_gaps, rule_gaps
from config_report.jira._triage import (
    MAX_URGENT_LISTED,
    URGENT,
    group_lines,
    new_findings,
    urgent,
    urgent_line,
)

LABEL_PREFIX = "aws-config-report-"
# Long lists would bury the point and run into Jira's 32,767-character field limit.
MAX_GAP_GROUPS = 10
MAX_NEW_RULES_LISTED = 5
MAX_NEW_RESOURCES_PER_RULE = 3
MAX_ACCOUNTS_LISTED = 10
SUMMARY_LIMIT = 255


def iso_week(moment: datetime) -> str:
    """The ISO week of `moment`, e.g. `2026-W48` (Monday runs and their re-runs share it)."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def week_label(week: str, *, environment: str | None = None) -> str:
    """The stable label that marks `week`'s ticket, e.g. `aws-config-report-2026-W48`.

    With an environment, `aws-config-report-stg-2026-W48`: a stg run never finds prod's ticket.
    """
    return LABEL_PREFIX + (f"{environment}-" if environment else "") + week


@dataclass(frozen=True, slots=True)
class PublishedWorkbook:
    """The published workbook: where people find it, and the file the ticket attaches."""

    file_name: str
    s3_uri: str
    console_url: str
    size_bytes: int
    local_path: Path


@dataclass(frozen=True, slots=True)
class WorkbookLocation:
    """Where people find the workbook, and whether it rides along as an attachment."""

    file_name: str
    s3_uri: str
    console_url: str
    size_bytes: int
    limit_mb: float
    local_path: Path

    @classmethod
    def of(cls, workbook: PublishedWorkbook, *, limit_mb: float) -> WorkbookLocation:
        """`workbook`, attached when it is at most `limit_mb` (CONFIG_REPORT_JIRA_ATTACHMENT_MAX_MB)."""
        return cls(
            workbook.file_name,
            workbook.s3_uri,
            workbook.console_url,
            workbook.size_bytes,
            limit_mb,
            workbook.local_path,
        )

    @property
    def attachable(self) -> bool:
        """True when the workbook is small enough to attach."""
        return self.size_bytes <= self.limit_mb * 1024 * 1024


def summary(week: str, figures: Figures, changes: Changes | None = None) -> str:
    """One line: the week, what changed since the previous run, and the headline figures."""
    moved = ""
    if changes is not None and changes.baseline.usable:
        moved = f"{changes.new_resources:,} new, {changes.resolved_resources:,} resolved; "
    text = (
        f"AWS Config compliance {week}: {moved}{figures.noncompliant_resources:,} non-compliant resources, "
        f"{figures.failing_evaluations:,} failing evaluations, {figures.accounts:,} accounts"
    )
    if figures.coverage_gaps:
        text += f", {_count(figures.coverage_gaps, 'coverage gap')}"
    return text[:SUMMARY_LIMIT]


def description(week: str, report: Report, where: WorkbookLocation) -> Document:
    """The new ticket's body, in the order a triager acts: the new critical and high findings, who owns
    the new findings, what could not be read and how to fix it, the expired exceptions; then the counts
    since the previous run, the figures, the worst rules and accounts, and where the report is."""
    figures = report.figures
    intro = Paragraph((Text(f"Weekly AWS Config compliance report for {week}. {_run_line(report)}"),))
    return Document(
        (
            intro,
            *_triage_blocks(report.changes, "Since the previous run", report),
            *_change_blocks(report.changes, "Since the previous run", report.account_names()),
            *_figures_blocks(figures),
            Heading("Worst rules"),
            _ranked(figures.worst_rules, "No rule has non-compliant resources."),
            Heading("Worst accounts"),
            _ranked(figures.worst_accounts, "No account has non-compliant resources."),
            *_location_blocks(where),
        )
    )


def comment(report: Report, since_ticket: Changes | None, where: WorkbookLocation) -> Document:
    """A later run's note on the week's ticket, in the description's order: what is new since the
    ticket was created (or, when the run that created it is not known, since the previous run), gaps,
    expired exceptions, the counts, its figures and workbook."""
    changes, title = (
        (since_ticket, "Since this ticket was created")
        if since_ticket
        else (report.changes, "Since the previous run")
    )
    return Document(
        (
            Paragraph(
                (Text("New run of the weekly report. ", strong=True), Text(_run_line(report))),
            ),
            *_triage_blocks(changes, title, report),
            *_change_blocks(changes, title, report.account_names()),
            *_figures_blocks(report.figures),
            *_location_blocks(where),
        )
    )


def _triage_blocks(changes: Changes | None, title: str, report: Report) -> tuple[Block, ...]:
    """The four sections a triager reads first."""
    return (
        *_urgent_blocks(changes, title, report),
        *_owner_blocks(changes, report),
        *_gap_blocks(report),
        *_exception_blocks(report),
    )


def _urgent_blocks(changes: Changes | None, title: str, report: Report) -> tuple[Block, ...]:
    """The new critical and high findings, worst first: the first fifteen, then how many more."""
    heading = Heading("New critical and high findings")
    names = report.account_names()
    if changes is None or not changes.baseline.usable:
        problem = changes.baseline.problem if changes is not None else "not compared with an earlier run"
        now = sum(1 for f in report.findings() if f.accepted is None and f.severity in URGENT)
        return heading, _words(
            f"No baseline: {problem}. Nothing can be called new; this run has "
            f"{_count(now, 'critical or high finding')} (Non-compliant resources sheet, Severity)."
        )
    found = urgent(new_findings(changes), names)
    since = f"{title} ({_baseline_label(changes)})"
    if not found:
        return heading, _words(f"None. {since}: no new finding is critical or high.")
    resources = len({f.resource for f in found})
    counts = ", ".join(
        f"{sum(1 for f in found if f.severity is s):,} {s.value}"
        for s in sorted(URGENT, key=lambda s: s.rank)
    )
    lines = [urgent_line(f, names) for f in found[:MAX_URGENT_LISTED]]
    if len(found) > MAX_URGENT_LISTED:
        lines.append(
            f"… and {len(found) - MAX_URGENT_LISTED:,} more: the Changes sheet lists them (Status NEW)"
        )
    summary_line = f"{since}: {_count(len(found), 'finding')} on {_count(resources, 'resource')} ({counts})."
    return heading, _words(summary_line), _bullets(*lines)


def _owner_blocks(changes: Changes | None, report: Report) -> tuple[Block, ...]:
    """Who must act: the owners and OUs with the most resources with new findings."""
    heading = Heading("Owners and OUs with the most new findings")
    if changes is None or not changes.baseline.usable:
        return heading, _words("Not known without a baseline (see above).")
    found = new_findings(changes)
    if not found:
        return heading, _words("None: no new findings.")
    by_owner, by_ou = group_lines(found, {a.id: a.ou for a in report.accounts})
    return (
        heading,
        _words("By owner:"),
        _bullets(*by_owner),
        _words("By OU:"),
        _bullets(*by_ou),
    )


def _baseline_label(changes: Changes) -> str:
    baseline = changes.baseline
    day = f"{baseline.started_at:%Y-%m-%d}, " if baseline.started_at is not None else ""
    return f"{day}run {baseline.run_id}"


def _run_line(report: Report) -> str:
    return f"Run {report.run.run_id}, started {report.run.started_at:%Y-%m-%d %H:%M %Z}".rstrip() + "."


def _figures_blocks(f: Figures) -> tuple[Heading, BulletList]:
    return Heading("Figures"), _bullets(
        f"Non-compliant resources: {f.noncompliant_resources:,} (each counted once)",
        f"Critical and high: {f.critical_high_resources:,} (of these, failing a CRITICAL or HIGH rule)",
        f"Failing evaluations: {f.failing_evaluations:,} (resource × rule × region)",
        f"Rules (per account and region): {f.rules_noncompliant:,} non-compliant, {f.rules_compliant:,} "
        f"compliant, {f.rules_other:,} other",
        f"Accounts: {f.accounts:,} ({f.accounts_fully_scanned:,} fully scanned)",
        f"Regions: {f.regions_scanned:,} of {f.regions_total:,} read, "
        f"{f.regions_without_config:,} without AWS Config, {_count(f.coverage_gaps, 'gap')}",
        *_region_lines(f),
    )


def _region_lines(f: Figures) -> list[str]:
    """Broken detective controls by region, then the regions the organization does not use."""
    lines = [
        f"AWS Config in {use.region}: {use.recording:,} accounts recording {use.summary()}"
        for use in f.regions
        if use.broken
    ]
    if f.regions_unused:
        lines.append(f"{UNUSED_REGIONS}: {', '.join(f.regions_unused)}")
    return lines


def _gap_blocks(report: Report) -> tuple[Block, ...]:
    """What could not be read, grouped by cause: each group's count, accounts and the step that fixes it."""
    heading = Heading("Coverage gaps")
    if report.figures.complete:
        return heading, _words("None: every account and region was read.")
    blocks: list[Block] = [heading]
    for groups, what in (
        (region_gaps(report), "account-region"),
        (rule_gaps(report), "rule that alone could not be read (its region was)"),
    ):
        if groups:
            items = [_gap_item(g, what) for g in groups[:MAX_GAP_GROUPS]]
            if len(groups) > MAX_GAP_GROUPS:
                more = len(groups) - MAX_GAP_GROUPS
                items.append(
                    (Text(f"… and {_count(more, 'other cause')}: see the Coverage and Rules sheets"),)
                )
            blocks.append(BulletList(tuple(items)))
    return tuple(blocks)


def _gap_item(group: GapGroup, what: str) -> tuple[Inline, ...]:
    places = f"{group.places:,} {what}" if group.places == 1 else f"{group.places:,} {_plural(what)}"
    accounts = _count(len(group.accounts), "account")
    return (
        Text(f"{group.status.value}: ", strong=True),
        Text(f"{places} in {accounts}: {group.named_accounts()}. "),
        Text(f"Rules: {group.named_rules()}. " if group.rules else ""),
        Text(f"AWS said: {group.cause or 'nothing'}. "),
        Text("Fix: ", strong=True),
        Text(group.fix + "."),
    )


def _plural(what: str) -> str:
    noun, _, rest = what.partition(" ")
    return f"{noun}s {rest}".rstrip()


def _exception_blocks(report: Report) -> tuple[Heading | Paragraph | BulletList, ...]:
    """The expired and unused exceptions, named, and how to request one; nothing without either."""
    if not report.exceptions and not report.exception_request:
        return ()
    lines = [
        *(f"Expired: {line}" for line in exception_lines(report, ExceptionStatus.EXPIRED)),
        *(f"Unused: {line}" for line in exception_lines(report, ExceptionStatus.UNUSED)),
    ]
    blocks: list[Heading | Paragraph | BulletList] = [Heading("Accepted exceptions")]
    if lines:
        blocks.append(_bullets(*lines))
    elif report.exceptions:
        blocks.append(Paragraph((Text("None expired or unused."),)))
    request = report.exception_request
    if request:
        target: Inline = Link(request, request) if request.startswith("https://") else Text(request)
        blocks.append(Paragraph((Text(f"{EXCEPTION_REQUEST}: "), target)))
    return tuple(blocks)


def _ranked(items: tuple[RankedItem, ...], empty: str) -> Paragraph | BulletList:
    if not items:
        return Paragraph((Text(empty),))
    return _bullets(*(f"{item.name}: {item.count:,}" for item in items))


def _change_blocks(
    changes: Changes | None, title: str, names: dict[str, str]
) -> tuple[Heading | Paragraph | BulletList, ...]:
    """New and resolved counts, the worst new findings, and who joined or left (nothing without a
    baseline: the first section already says why)."""
    if changes is None:
        return ()
    baseline = changes.baseline
    if not baseline.usable or baseline.started_at is None or baseline.figures is None:
        return ()
    lines = [
        f"Newly non-compliant resources: {changes.new_resources:,} (change {changes.resources_change:+,})",
        f"Resources no longer non-compliant: {changes.resolved_resources:,}",
        f"New failing evaluations: {len(changes.new):,}",
        f"Resolved failing evaluations: {len(changes.resolved):,}",
        f"Still failing: {changes.persisting:,}",
    ]
    if changes.not_comparable:
        lines.append(f"Not compared (account-regions not read in both runs): {changes.not_comparable:,}")
    if changes.not_read_now:
        lines.append(
            f"Not compared, the previous run's findings in places not read this run: "
            f"{len(changes.not_read_now):,} ({_places(changes.not_read_now, names)})"
        )
    lines += [
        _accounts(label, accounts)
        for label, accounts in (("Joined", changes.joined), ("Left", changes.left))
        if accounts
    ]
    heading = Heading(f"{title} ({baseline.started_at:%Y-%m-%d}, run {baseline.run_id})")
    return heading, _bullets(*lines), *_worst_new_blocks(changes.new, names)


def _places(findings: Sequence[Finding], names: dict[str, str]) -> str:
    accounts = sorted({f.account_id for f in findings})
    named = ", ".join(f"{names.get(a, '')} ({a})" for a in accounts[:MAX_ACCOUNTS_LISTED])
    more = len(accounts) - MAX_ACCOUNTS_LISTED
    return named + (f" and {more:,} more accounts" if more > 0 else "")


def _accounts(label: str, accounts: tuple[Account, ...]) -> str:
    named = ", ".join(f"{a.name} ({a.id})" for a in accounts[:MAX_ACCOUNTS_LISTED])
    more = len(accounts) - MAX_ACCOUNTS_LISTED
    return f"{label} the organization (or the scope): {named}" + (f" and {more:,} more" if more > 0 else "")


def _worst_new_blocks(
    new: Sequence[Finding], names: dict[str, str]
) -> tuple[Heading, BulletList] | tuple[()]:
    """The rules with the most new findings, each with a few of its new resources."""
    if not new:
        return ()
    by_rule: dict[str, list[Finding]] = {}
    for finding in new:
        by_rule.setdefault(finding.normalized_name, []).append(finding)
    ranked = sorted(by_rule.items(), key=lambda item: (-len(item[1]), item[0]))[:MAX_NEW_RULES_LISTED]
    lines = []
    for rule, findings in ranked:
        examples = "; ".join(
            f"{names.get(f.account_id, '')} ({f.account_id}) {f.region} {f.resource_id}"
            for f in findings[:MAX_NEW_RESOURCES_PER_RULE]
        )
        more = len(findings) - MAX_NEW_RESOURCES_PER_RULE
        lines.append(
            f"{rule}: {len(findings):,} new: {examples}" + (f"; and {more:,} more" if more > 0 else "")
        )
    return Heading("Worst new findings"), _bullets(*lines)


def _location_blocks(where: WorkbookLocation) -> tuple[Heading, BulletList]:
    size = file_size(where.size_bytes)
    attachment = (
        f"Attached: {where.file_name} ({size})"
        if where.attachable
        else f"Not attached: {where.file_name} is {size}, above the {where.limit_mb:g} MB limit; "
        "download it from S3"
    )
    items: tuple[tuple[Inline, ...], ...] = (
        (Text("Workbook: "), Text(where.s3_uri)),
        (Link("Open in the S3 console", where.console_url),),
        (Text(attachment),),
    )
    return Heading("Report"), BulletList(items)


def file_size(size_bytes: int) -> str:
    """A size people read at a glance: KB below a megabyte, MB above."""
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.0f} KB"
    return f"{size_bytes / (1024 * 1024):.1f} MB"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _bullets(*lines: str) -> BulletList:
    return BulletList(tuple((Text(line),) for line in lines))


def _words(text: str) -> Paragraph:
    return Paragraph((Text(text),))
