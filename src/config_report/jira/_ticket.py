"""The words of the weekly ticket: summary, description and the comment each later run adds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from config_report.jira._document import BulletList, Document, Heading, Inline, Link, Paragraph, Text
from config_report.model import Figures, Finding, RankedItem, Report

LABEL_PREFIX = "aws-config-report-"
# Long lists would bury the point and run into Jira's 32,767-character field limit.
MAX_GAPS_LISTED = 20
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
class Changes:
    """What moved since the previous report."""

    new_findings: int
    resolved_findings: int
    noncompliant_resources_delta: int
    rules_noncompliant_delta: int
    coverage_gaps_delta: int


def changes_since(current: Report, previous: Report) -> Changes:
    """Compare two reports; a finding is the same when account, region, rule and resource match."""
    now = {_finding_id(f) for f in current.findings()}
    before = {_finding_id(f) for f in previous.findings()}
    a, b = current.figures(), previous.figures()
    return Changes(
        new_findings=len(now - before),
        resolved_findings=len(before - now),
        noncompliant_resources_delta=a.noncompliant_resources - b.noncompliant_resources,
        rules_noncompliant_delta=a.rules_noncompliant - b.rules_noncompliant,
        coverage_gaps_delta=a.coverage_gaps - b.coverage_gaps,
    )


def _finding_id(finding: Finding) -> tuple[str, ...]:
    return (finding.account_id, finding.region, finding.rule_name, finding.resource_type, finding.resource_id)


@dataclass(frozen=True, slots=True)
class WorkbookLocation:
    """Where people find the workbook, and whether it rides along as an attachment."""

    file_name: str
    s3_uri: str
    console_url: str
    size_bytes: int
    limit_mb: float

    @property
    def attachable(self) -> bool:
        """True when the workbook is small enough to attach."""
        return self.size_bytes <= self.limit_mb * 1024 * 1024


def summary(week: str, figures: Figures) -> str:
    """One line: the week and the headline figures."""
    text = (
        f"AWS Config compliance {week}: {figures.noncompliant_resources:,} non-compliant resources, "
        f"{figures.rules_noncompliant:,} failing rule evaluations, {figures.accounts:,} accounts"
    )
    if figures.coverage_gaps:
        text += f", {_count(figures.coverage_gaps, 'coverage gap')}"
    return text[:SUMMARY_LIMIT]


def description(
    week: str, report: Report, figures: Figures, changes: Changes | None, where: WorkbookLocation
) -> Document:
    """The new ticket's body: figures, coverage gaps, worst rules and accounts, changes, the report."""
    intro = Paragraph((Text(f"Weekly AWS Config compliance report for {week}. {_run_line(report)}"),))
    return Document(
        (
            intro,
            *_figures_blocks(figures),
            *_gap_blocks(report, figures),
            Heading("Worst rules"),
            _ranked(figures.worst_rules, "No rule has non-compliant resources."),
            Heading("Worst accounts"),
            _ranked(figures.worst_accounts, "No account has non-compliant resources."),
            *_change_blocks(changes),
            *_location_blocks(where),
        )
    )


def comment(report: Report, figures: Figures, changes: Changes | None, where: WorkbookLocation) -> Document:
    """A later run's note on the week's ticket: its figures, gaps, changes and workbook."""
    return Document(
        (
            Paragraph(
                (Text("New run of the weekly report. ", strong=True), Text(_run_line(report))),
            ),
            *_figures_blocks(figures),
            *_gap_blocks(report, figures),
            *_change_blocks(changes),
            *_location_blocks(where),
        )
    )


def _run_line(report: Report) -> str:
    return f"Run {report.run.run_id}, started {report.run.started_at:%Y-%m-%d %H:%M %Z}".rstrip() + "."


def _figures_blocks(f: Figures) -> tuple[Heading, BulletList]:
    return Heading("Figures"), _bullets(
        f"Non-compliant resources: {f.noncompliant_resources:,}",
        f"Rule evaluations: {f.rules_noncompliant:,} non-compliant, {f.rules_compliant:,} compliant, "
        f"{f.rules_other:,} other",
        f"Accounts: {f.accounts:,} ({f.accounts_fully_scanned:,} fully scanned)",
        f"Regions: {f.regions_scanned:,} of {f.regions_total:,} read, "
        f"{f.regions_without_config:,} without AWS Config, {_count(f.coverage_gaps, 'gap')}",
    )


def _gap_blocks(report: Report, figures: Figures) -> tuple[Heading, Paragraph | BulletList]:
    heading = Heading("Coverage gaps")
    if figures.complete:
        return heading, Paragraph((Text("None: every account and region was read."),))
    names = report.account_names()
    gaps = [c for c in report.coverage() if c.status.is_gap]
    lines = [
        f"{names.get(c.account_id, '')} ({c.account_id}), {c.region}: {c.status.value}"
        + (f" ({c.detail})" if c.detail else "")
        for c in gaps[:MAX_GAPS_LISTED]
    ]
    if len(gaps) > MAX_GAPS_LISTED:
        lines.append(f"… and {len(gaps) - MAX_GAPS_LISTED:,} more: see the Coverage sheet")
    return heading, _bullets(*lines)


def _ranked(items: tuple[RankedItem, ...], empty: str) -> Paragraph | BulletList:
    if not items:
        return Paragraph((Text(empty),))
    return _bullets(*(f"{item.name}: {item.count:,}" for item in items))


def _change_blocks(changes: Changes | None) -> tuple[Heading, BulletList] | tuple[()]:
    if changes is None:
        return ()
    return Heading("Changes since the previous report"), _bullets(
        f"New non-compliant resources: {changes.new_findings:,}",
        f"Resolved: {changes.resolved_findings:,}",
        f"Non-compliant resources: {changes.noncompliant_resources_delta:+,}",
        f"Non-compliant rule evaluations: {changes.rules_noncompliant_delta:+,}",
        f"Coverage gaps: {changes.coverage_gaps_delta:+,}",
    )


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
