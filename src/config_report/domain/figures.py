"""The headline figures: computed once, when a report is finished, and read by every output.

`finished(report)` computes them from the report's rules, findings, coverage and accepted exceptions
and carries them with the report (`Report.figures`): the workbook, the snapshot, the manifest, the
history line, the terminal and the Jira ticket all read that one object, so they cannot disagree.
A report is finished once nothing that the figures count can change any more (after the accepted
exceptions and the comparison with the previous run).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from config_report.domain.model import (
    AccountScan,
    Changes,
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
    RuleResult,
    SkipReason,
)
from config_report.domain.severity import Severity

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
    groups = groups_of(failing, {s.account.id: s.account.ou for s in report.scans})
    by_account = groups[ACCOUNT]
    change = _change_of(report.changes)
    names = report.account_names()
    statuses = Counter(c.status for c in coverage)
    skipped = Counter(s.reason.value for s in report.skipped_rules())
    exceptions = Counter(e.status for e in report.exceptions)
    severity_of = _rule_severities(failing)
    worst_rules, worst_rules_other = _ranked(
        groups[RULE],
        RULE,
        lambda name: name,
        change,
        order=lambda name, found: (severity_of[name].rank, -len(found)),
        severity=severity_of.get,
    )
    urgent_of = groups[URGENT_BY_ACCOUNT]
    worst_accounts, worst_accounts_other = _ranked(
        by_account,
        ACCOUNT,
        lambda acct: f"{names.get(acct, '')} ({acct})",
        change,
        order=lambda acct, found: (-len(urgent_of.get(acct, ())), -len(found)),
        urgent=lambda acct: len(urgent_of.get(acct, ())),
    )
    by_owner, by_owner_other = _by_owner(failing, change)
    by_ou, by_ou_other = _by_ou(failing, report.scans, change)
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
        critical_high_resources=len(groups[URGENT].get(URGENT_GROUP, ())),
        failing_evaluations=sum(r.noncompliant_resources for r in rules) - (len(findings) - len(failing)),
        worst_rules=worst_rules,
        worst_accounts=worst_accounts,
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
        by_owner=by_owner,
        by_ou=by_ou,
        account_resources={account: len(found) for account, found in by_account.items()},
        regions=region_use(coverage, names),
        worst_rules_other=worst_rules_other,
        worst_accounts_other=worst_accounts_other,
        by_owner_other=by_owner_other,
        by_ou_other=by_ou_other,
    )


# --- the rankings and their groups --------------------------------------------------------------------

RULE, ACCOUNT, OWNER, OU = "rule", "account", "owner", "ou"
"""The kinds of group the Summary ranks: a rule (by its normalized name), an account, an owner, an OU."""
URGENT, URGENT_BY_ACCOUNT = "urgent", "urgent account"
"""The resources failing a CRITICAL or HIGH rule: in all (one group, `URGENT_GROUP`), and per account."""
URGENT_GROUP = "critical or high"
URGENT_SEVERITIES = frozenset({Severity.CRITICAL, Severity.HIGH})

Groups = Mapping[str, Mapping[str, set[Resource]]]
ChangeOf = Callable[[str, str], int | None]


def owner_group(finding: Finding) -> str:
    """The owner a finding counts under in `By owner`."""
    return finding.owner.name if finding.owner and finding.owner.name else NO_OWNER


def groups_of(findings: Iterable[Finding], ou_of: Mapping[str, str]) -> dict[str, dict[str, set[Resource]]]:
    """Kind → group → the distinct resources failing in it (`ou_of`: account ID → its OU)."""
    groups: dict[str, dict[str, set[Resource]]] = {
        kind: defaultdict(set) for kind in (RULE, ACCOUNT, OWNER, OU, URGENT, URGENT_BY_ACCOUNT)
    }
    for finding in findings:
        resource = finding.resource
        # One organization-wide control is one entry, whatever suffix each account's copy carries.
        groups[RULE][finding.normalized_name].add(resource)
        groups[ACCOUNT][finding.account_id].add(resource)
        groups[OWNER][owner_group(finding)].add(resource)
        groups[OU][ou_of.get(finding.account_id, "")].add(resource)
        if finding.severity in URGENT_SEVERITIES:
            groups[URGENT][URGENT_GROUP].add(resource)
            groups[URGENT_BY_ACCOUNT][finding.account_id].add(resource)
    return groups


def compliant_share(rules: Iterable[RuleResult]) -> float | None:
    """Compliant rules ÷ rules judged (compliant or not): an account's compliance; None when none was."""
    states = Counter(r.compliance for r in rules)
    judged = states[Compliance.COMPLIANT] + states[Compliance.NON_COMPLIANT]
    return states[Compliance.COMPLIANT] / judged if judged else None


def share_changes(now: Iterable[RuleResult], before: Iterable[RuleResult]) -> dict[str, float]:
    """Account ID → its compliant share now minus before, both over the same rules' places; only where
    both runs judged a rule."""
    shares = [_shares_by_account(rules) for rules in (now, before)]
    return {
        account: share - shares[1][account] for account, share in shares[0].items() if account in shares[1]
    }


def _shares_by_account(rules: Iterable[RuleResult]) -> dict[str, float]:
    by_account: dict[str, list[RuleResult]] = defaultdict(list)
    for rule in rules:
        by_account[rule.account_id].append(rule)
    shares = {account: compliant_share(items) for account, items in by_account.items()}
    return {account: share for account, share in shares.items() if share is not None}


def group_changes(now: Groups, before: Groups) -> dict[tuple[str, str], int]:
    """(kind, group) → resources now minus resources before, both counted over the same places."""
    return {
        (kind, name): len(now[kind].get(name, set())) - len(before[kind].get(name, set()))
        for kind in now
        for name in now[kind].keys() | before[kind].keys()
    }


def _change_of(changes: Changes | None) -> ChangeOf:
    if changes is None or not changes.baseline.usable:
        return lambda kind, name: None
    return lambda kind, name: changes.group_changes.get((kind, name), 0)


def _rule_severities(failing: Iterable[Finding]) -> dict[str, Severity]:
    """Normalized rule name → its severity (the most severe, should its copies differ)."""
    severities: dict[str, Severity] = {}
    for finding in failing:
        known = severities.get(finding.normalized_name)
        if known is None or finding.severity.rank < known.rank:
            severities[finding.normalized_name] = finding.severity
    return severities


def _ranked(
    groups: Mapping[str, set[Resource]],
    kind: str,
    label: Callable[[str], str],
    change: ChangeOf,
    *,
    order: Callable[[str, set[Resource]], tuple[int, ...]],
    severity: Callable[[str], Severity | None] = lambda name: None,
    urgent: Callable[[str], int | None] = lambda name: None,
) -> tuple[tuple[RankedItem, ...], RankedItem | None]:
    """The `TOP` groups in `order` (most urgent first; then by name), and one row for the rest."""
    ordered = sorted(groups.items(), key=lambda item: (*order(*item), item[0]))
    top = tuple(
        RankedItem(label(name), len(found), change(kind, name), severity(name), urgent(name))
        for name, found in ordered[:TOP]
    )
    rest = ordered[TOP:]
    if not rest:
        return top, None
    # A resource failing two of the other rules counts once in their row, as in the headline.
    others = set().union(*(found for _, found in rest))
    # Rules overlap (one resource, several rules): their changes do not add up; the others' do.
    total = None if kind == RULE else _sum_changes(change(kind, name) for name, _ in rest)
    return top, RankedItem(f"other {len(rest):,} {_PLURAL[kind]}", len(others), total)


_PLURAL = {RULE: "rules", ACCOUNT: "accounts", OWNER: "owners", OU: "OUs"}


def _sum_changes(changes: Iterable[int | None]) -> int | None:
    known = list(changes)
    return None if any(c is None for c in known) else sum(c for c in known if c is not None)


def _by_owner(
    failing: Sequence[Finding], change: ChangeOf
) -> tuple[tuple[GroupFigures, ...], GroupFigures | None]:
    """Per owner: resources and the accounts they are in. No compliant share: only the failing
    resources' owners are known (Config is asked for their tags alone), so the resources an owner has
    that pass are not."""
    findings: dict[str, list[Finding]] = defaultdict(list)
    for finding in failing:
        findings[owner_group(finding)].append(finding)
    accounts = {name: {f.account_id for f in items} for name, items in findings.items()}
    rows = [
        _group(name, items, (), len(accounts[name]), change(OWNER, name)) for name, items in findings.items()
    ]
    return _top(rows, OWNER, accounts)


def _by_ou(
    failing: Sequence[Finding], scans: Sequence[AccountScan], change: ChangeOf
) -> tuple[tuple[GroupFigures, ...], GroupFigures | None]:
    """Per OU: resources, accounts in scope, and the share of compliant rules over the OU's accounts,
    so production OUs can be told from sandboxes at a glance."""
    members: dict[str, list[AccountScan]] = defaultdict(list)
    for scan in scans:
        members[scan.account.ou].append(scan)
    of_account: dict[str, list[Finding]] = defaultdict(list)
    for finding in failing:
        of_account[finding.account_id].append(finding)
    rows = [
        _group(
            ou,
            [f for s in accounts for f in of_account[s.account.id]],
            accounts,
            len(accounts),
            change(OU, ou),
        )
        for ou, accounts in members.items()
    ]
    return _top(rows, OU, {ou: {s.account.id for s in accounts} for ou, accounts in members.items()})


def _group(
    name: str,
    findings: Sequence[Finding],
    scans: Sequence[AccountScan],
    accounts: int,
    change: int | None,
) -> GroupFigures:
    states = Counter(r.compliance for s in scans for r in s.rules)
    judged = states[Compliance.COMPLIANT] + states[Compliance.NON_COMPLIANT]
    resources = len({f.resource for f in findings})
    return GroupFigures(name, resources, accounts, states[Compliance.COMPLIANT], judged, change)


def _top(
    rows: list[GroupFigures], kind: str, accounts: Mapping[str, set[str]]
) -> tuple[tuple[GroupFigures, ...], GroupFigures | None]:
    ordered = sorted(rows, key=lambda g: (-g.noncompliant_resources, g.name))
    rest = ordered[TOP:]
    if not rest:
        return tuple(ordered), None
    other = GroupFigures(
        f"other {len(rest):,} {_PLURAL[kind]}",
        sum(g.noncompliant_resources for g in rest),
        # One account may hold several owners' resources: counted once.
        len(set().union(*(accounts[g.name] for g in rest))),
        sum(g.compliant_rules for g in rest),
        sum(g.rules_judged for g in rest),
        _sum_changes(g.change for g in rest),
    )
    return tuple(ordered[:TOP]), other
