"""The headline figures: computed once, when a report is finished, and read by every output.

`finished(report)` computes them from the report's rules, findings, coverage and accepted exceptions
and carries them with the report (`Report.figures`): the workbook, the snapshot, the manifest, the
history line, the terminal and the Jira ticket all read that one object, so they cannot disagree.
A report is finished once nothing that the figures count can change any more (after the accepted
exceptions and the comparison with the previous run).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace

from config_report.domain.model import (
    AccountScan,
    Compliance,
    CoverageStatus,
    EvaluationFlag,
    ExceptionStatus,
    Figures,
    Finding,
    GroupFigures,
    RankedItem,
    Report,
    SkipReason,
)

TOP = 10
"""How many rules, accounts, owners and OUs the 'worst' lists and the group tables hold."""

NO_OWNER = "(no owner)"
"""The owner group of findings whose resource and account carry no owner tag."""


def finished(report: Report) -> Report:
    """`report` with its figures, computed now; call it once the report's contents are final."""
    return replace(report, finished_figures=figures_of(report))


def figures_of(report: Report) -> Figures:
    """The headline figures of `report` (one pass over its rules, findings and coverage)."""
    coverage = list(report.coverage())
    rules = list(report.rules())
    by_rule: Counter[str] = Counter()
    by_account: Counter[str] = Counter()
    for rule in rules:
        # One organization-wide control is one entry, whatever suffix each account's copy carries.
        by_rule[rule.normalized_name] += rule.noncompliant_resources
        by_account[rule.account_id] += rule.noncompliant_resources
    # An accepted finding is a decided risk, not work to do: it leaves the headline and rankings.
    accepted = [f for f in report.findings() if f.accepted is not None]
    by_rule.subtract(f.normalized_name for f in accepted)
    by_account.subtract(f.account_id for f in accepted)
    names = report.account_names()
    statuses = Counter(c.status for c in coverage)
    skipped = Counter(s.reason.value for s in report.skipped_rules())
    exceptions = Counter(e.status for e in report.exceptions)
    return Figures(
        accounts=len(report.scans),
        accounts_fully_scanned=sum(1 for s in report.scans if s.status.complete),
        regions_scanned=statuses[CoverageStatus.OK],
        regions_total=len(coverage),
        regions_without_config=statuses[CoverageStatus.CONFIG_NOT_ENABLED],
        coverage_gaps=sum(1 for c in coverage if c.status.is_gap),
        rules_compliant=sum(1 for r in rules if r.compliance is Compliance.COMPLIANT),
        rules_noncompliant=sum(1 for r in rules if r.compliance is Compliance.NON_COMPLIANT),
        rules_other=sum(
            1 for r in rules if r.compliance not in (Compliance.COMPLIANT, Compliance.NON_COMPLIANT)
        ),
        noncompliant_resources=sum(by_rule.values()),
        worst_rules=_ranked(by_rule, lambda name: name),
        worst_accounts=_ranked(by_account, lambda acct: f"{names.get(acct, '')} ({acct})"),
        regions_not_recording=statuses[CoverageStatus.CONFIG_NOT_RECORDING],
        regions_not_enabled=statuses[CoverageStatus.REGION_NOT_ENABLED],
        regions_denied_by_scp=statuses[CoverageStatus.DENIED_BY_SCP],
        rules_unread=sum(1 for r in rules if r.unread),
        rules_evaluation_failed=sum(1 for r in rules if r.evaluation_flag is EvaluationFlag.FAILED),
        rules_stale=sum(1 for r in rules if r.evaluation_flag is EvaluationFlag.STALE),
        rules_skipped=tuple(RankedItem(reason.value, skipped[reason.value]) for reason in SkipReason),
        accepted_resources=len(accepted),
        exceptions_applied=exceptions[ExceptionStatus.APPLIED],
        exceptions_expired=exceptions[ExceptionStatus.EXPIRED],
        exceptions_unused=exceptions[ExceptionStatus.UNUSED],
        by_owner=_by_owner(report),
        by_ou=_by_ou(report),
    )


def _ranked(counts: Counter[str], label: Callable[[str], str]) -> tuple[RankedItem, ...]:
    ordered = sorted(((n, c) for n, c in counts.items() if c > 0), key=lambda item: (-item[1], item[0]))
    return tuple(RankedItem(name=label(name), count=count) for name, count in ordered[:TOP])


def _by_owner(report: Report) -> tuple[GroupFigures, ...]:
    """Per owner (the `TOP` with most non-compliant resources): resources, the accounts they are in,
    and the share of compliant rules in those accounts."""
    findings: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings():
        if finding.accepted is None:
            name = finding.owner.name if finding.owner and finding.owner.name else NO_OWNER
            findings[name].append(finding)
    scans = {s.account.id: s for s in report.scans}
    rows = [
        _group(name, items, [scans[a] for a in sorted({f.account_id for f in items})])
        for name, items in findings.items()
    ]
    return _top(rows)


def _by_ou(report: Report) -> tuple[GroupFigures, ...]:
    """Per OU (the `TOP` with most non-compliant resources): resources, accounts in scope, and the share
    of compliant rules, so production OUs can be told from sandboxes at a glance."""
    scans: dict[str, list[AccountScan]] = defaultdict(list)
    for scan in report.scans:
        scans[scan.account.ou].append(scan)
    rows = [
        _group(ou, [f for s in members for f in s.findings if f.accepted is None], members)
        for ou, members in scans.items()
    ]
    return _top(rows)


def _group(name: str, findings: Sequence[Finding], scans: Sequence[AccountScan]) -> GroupFigures:
    states = Counter(r.compliance for s in scans for r in s.rules)
    judged = states[Compliance.COMPLIANT] + states[Compliance.NON_COMPLIANT]
    return GroupFigures(name, len(findings), len(scans), states[Compliance.COMPLIANT], judged)


def _top(rows: list[GroupFigures]) -> tuple[GroupFigures, ...]:
    return tuple(sorted(rows, key=lambda g: (-g.noncompliant_resources, g.name))[:TOP])
