"""The headline figures: computed once, when a report is finished, and read by every output.

`finished(report)` computes them from the report's rules, findings, coverage and accepted exceptions
and carries them with the report (`Report.figures`): the workbook, the snapshot, the manifest, the
history line, the terminal and the Jira ticket all read that one object, so they cannot disagree.
A report is finished once nothing that the figures count can change any more (after the accepted
exceptions and the comparison with the previous run).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from config_report.domain.model import (
    AccountScan,
    Compliance,
    Coverage,
    CoverageStatus,
    EvaluationFlag,
    ExceptionStatus,
    Figures,
    Finding,
    GroupFigures,
    RankedItem,
    RegionUse,
    Report,
    Resource,
    SkipReason,
)

TOP = 10
"""How many rules, accounts, owners and OUs the 'worst' lists and the group tables hold."""

NO_OWNER = "(no owner)"
"""The owner group of findings whose resource and account carry no owner tag."""


# Statuses of an account-region that has a recorder, whatever its health.
_HAS_RECORDER = frozenset(
    {CoverageStatus.OK, CoverageStatus.CONFIG_NOT_RECORDING, CoverageStatus.CONFIG_RECORDER_FAILING}
)
_BROKEN_RECORDER = frozenset({CoverageStatus.CONFIG_NOT_RECORDING, CoverageStatus.CONFIG_RECORDER_FAILING})
# Statuses where the region is closed to the account: Config cannot be expected there.
_CLOSED = frozenset({CoverageStatus.REGION_NOT_ENABLED, CoverageStatus.DENIED_BY_SCP})


def region_use(coverage: Sequence[Coverage], names: Mapping[str, str]) -> tuple[RegionUse, ...]:
    """How the organization uses Config in each region, in region order (`RegionUse`).

    Account-regions not read (gaps) say nothing about Config there and are left out.
    """
    by_region: dict[str, list[Coverage]] = defaultdict(list)
    for row in coverage:
        if not row.status.is_gap:
            by_region[row.region].append(row)
    uses = []
    for region in sorted(by_region):
        rows = [r for r in by_region[region] if r.status not in _CLOSED]
        recording = sum(1 for r in rows if r.status in _HAS_RECORDER)
        use = RegionUse(region, recording, len(rows))
        broken = _BROKEN_RECORDER | {CoverageStatus.CONFIG_NOT_ENABLED} if use.used else _BROKEN_RECORDER
        labels = tuple(f"{names.get(r.account_id, '')} ({r.account_id})" for r in rows if r.status in broken)
        uses.append(replace(use, broken=labels))
    return tuple(uses)


def finished(report: Report) -> Report:
    """`report` with its figures, computed now; call it once the report's contents are final."""
    return replace(report, finished_figures=figures_of(report))


def figures_of(report: Report) -> Figures:
    """The headline figures of `report` (one pass over its rules, findings and coverage)."""
    coverage = list(report.coverage())
    rules = list(report.rules())
    findings = list(report.findings())
    # An accepted finding is a decided risk, not work to do: it leaves the headline and rankings.
    failing = [f for f in findings if f.accepted is None]
    resources = {f.resource for f in failing}
    by_rule: dict[str, set[Resource]] = defaultdict(set)
    by_account: dict[str, set[Resource]] = defaultdict(set)
    for finding in failing:
        # One organization-wide control is one entry, whatever suffix each account's copy carries.
        by_rule[finding.normalized_name].add(finding.resource)
        by_account[finding.account_id].add(finding.resource)
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
        noncompliant_resources=len(resources),
        failing_evaluations=sum(r.noncompliant_resources for r in rules) - (len(findings) - len(failing)),
        worst_rules=_ranked(by_rule, lambda name: name),
        worst_accounts=_ranked(by_account, lambda acct: f"{names.get(acct, '')} ({acct})"),
        regions_not_recording=statuses[CoverageStatus.CONFIG_NOT_RECORDING],
        regions_recorder_failing=statuses[CoverageStatus.CONFIG_RECORDER_FAILING],
        regions_not_enabled=statuses[CoverageStatus.REGION_NOT_ENABLED],
        regions_denied_by_scp=statuses[CoverageStatus.DENIED_BY_SCP],
        rules_unread=sum(1 for r in rules if r.unread),
        rules_evaluation_failed=sum(1 for r in rules if r.evaluation_flag is EvaluationFlag.FAILED),
        rules_stale=sum(1 for r in rules if r.evaluation_flag is EvaluationFlag.STALE),
        rules_skipped=tuple(RankedItem(reason.value, skipped[reason.value]) for reason in SkipReason),
        accepted_resources=len({f.resource for f in findings if f.accepted is not None} - resources),
        exceptions_applied=exceptions[ExceptionStatus.APPLIED],
        exceptions_expired=exceptions[ExceptionStatus.EXPIRED],
        exceptions_unused=exceptions[ExceptionStatus.UNUSED],
        by_owner=_by_owner(failing, report.scans),
        by_ou=_by_ou(failing, report.scans),
        account_resources={account: len(found) for account, found in by_account.items()},
        regions=region_use(coverage, names),
    )


def _ranked(groups: Mapping[str, set[Resource]], label: Callable[[str], str]) -> tuple[RankedItem, ...]:
    ordered = sorted(
        ((name, len(found)) for name, found in groups.items()), key=lambda item: (-item[1], item[0])
    )
    return tuple(RankedItem(name=label(name), count=count) for name, count in ordered[:TOP])


def _by_owner(failing: Sequence[Finding], scans: Sequence[AccountScan]) -> tuple[GroupFigures, ...]:
    """Per owner (the `TOP` with most non-compliant resources): resources, the accounts they are in,
    and the share of compliant rules in those accounts."""
    findings: dict[str, list[Finding]] = defaultdict(list)
    for finding in failing:
        name = finding.owner.name if finding.owner and finding.owner.name else NO_OWNER
        findings[name].append(finding)
    by_id = {s.account.id: s for s in scans}
    rows = [
        _group(name, items, [by_id[a] for a in sorted({f.account_id for f in items})])
        for name, items in findings.items()
    ]
    return _top(rows)


def _by_ou(failing: Sequence[Finding], scans: Sequence[AccountScan]) -> tuple[GroupFigures, ...]:
    """Per OU (the `TOP` with most non-compliant resources): resources, accounts in scope, and the share
    of compliant rules, so production OUs can be told from sandboxes at a glance."""
    members: dict[str, list[AccountScan]] = defaultdict(list)
    for scan in scans:
        members[scan.account.ou].append(scan)
    of_account: dict[str, list[Finding]] = defaultdict(list)
    for finding in failing:
        of_account[finding.account_id].append(finding)
    rows = [
        _group(ou, [f for s in accounts for f in of_account[s.account.id]], accounts)
        for ou, accounts in members.items()
    ]
    return _top(rows)


def _group(name: str, findings: Sequence[Finding], scans: Sequence[AccountScan]) -> GroupFigures:
    states = Counter(r.compliance for s in scans for r in s.rules)
    judged = states[Compliance.COMPLIANT] + states[Compliance.NON_COMPLIANT]
    resources = len({f.resource for f in findings})
    return GroupFigures(name, resources, len(scans), states[Compliance.COMPLIANT], judged)


def _top(rows: list[GroupFigures]) -> tuple[GroupFigures, ...]:
    return tuple(sorted(rows, key=lambda g: (-g.noncompliant_resources, g.name))[:TOP])
