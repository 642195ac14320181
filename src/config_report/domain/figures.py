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
from dataclasses import dataclass, field, replace

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
    """The headline figures of `report`: one pass over its rules and coverage, and its findings read one
    account at a time (a second pass counts the resources of the rules outside the worst ten)."""
    coverage = list(report.coverage())
    rules = _rule_counts(report)
    tally = _tally(report)
    groups = tally.groups
    change = _change_of(report.changes)
    names = report.account_names()
    statuses = Counter(c.status for c in coverage)
    skipped = Counter(s.reason.value for s in report.skipped_rules())
    exceptions = Counter(e.status for e in report.exceptions)
    severity_of = tally.severity_of
    worst_rules, worst_rules_other = _ranked(
        groups[RULE],
        RULE,
        lambda name: name,
        change,
        order=lambda name, found: (severity_of[name].rank, -found),
        # A resource failing two of the other rules counts once in their row, as in the headline.
        others=lambda rest: _resources_failing_any(report, frozenset(rest)),
        severity=severity_of.get,
    )
    urgent_of = groups[URGENT_BY_ACCOUNT]
    worst_accounts, worst_accounts_other = _ranked(
        groups[ACCOUNT],
        ACCOUNT,
        lambda acct: f"{names.get(acct, '')} ({acct})",
        change,
        order=lambda acct, found: (-urgent_of[acct], -found),
        others=lambda rest: sum(groups[ACCOUNT][name] for name in rest),
        urgent=lambda acct: urgent_of[acct],
    )
    by_owner, by_owner_other = _by_owner(groups[OWNER], tally.owner_accounts, change)
    by_ou, by_ou_other = _by_ou(groups[OU], report.scans, change)
    return Figures(
        accounts=len(report.scans),
        accounts_fully_scanned=sum(1 for s in report.scans if s.status.complete),
        regions_scanned=statuses[CoverageStatus.OK],
        regions_total=len(coverage),
        regions_without_config=statuses[CoverageStatus.CONFIG_NOT_ENABLED],
        coverage_gaps=sum(1 for c in coverage if c.status.is_gap),
        rules_compliant=rules[Compliance.COMPLIANT],
        rules_noncompliant=rules[Compliance.NON_COMPLIANT],
        rules_other=rules[_OTHER],
        noncompliant_resources=tally.resources,
        critical_high_resources=groups[URGENT][URGENT_GROUP],
        failing_evaluations=rules[_FAILING] - tally.accepted_findings,
        worst_rules=worst_rules,
        worst_accounts=worst_accounts,
        regions_not_recording=statuses[CoverageStatus.CONFIG_NOT_RECORDING],
        regions_recorder_failing=statuses[CoverageStatus.CONFIG_RECORDER_FAILING],
        regions_not_enabled=statuses[CoverageStatus.REGION_NOT_ENABLED],
        regions_denied_by_scp=statuses[CoverageStatus.DENIED_BY_SCP],
        rules_unread=rules[_UNREAD],
        rules_evaluation_failed=rules[EvaluationFlag.FAILED],
        rules_stale=rules[EvaluationFlag.STALE],
        rules_skipped=tuple(RankedItem(reason.value, skipped[reason.value]) for reason in SkipReason),
        accepted_resources=tally.accepted_resources,
        exceptions_applied=exceptions[ExceptionStatus.APPLIED],
        exceptions_expired=exceptions[ExceptionStatus.EXPIRED],
        exceptions_unused=exceptions[ExceptionStatus.UNUSED],
        by_owner=by_owner,
        by_ou=by_ou,
        account_resources=dict(groups[ACCOUNT]),
        regions=region_use(coverage, names),
        worst_rules_other=worst_rules_other,
        worst_accounts_other=worst_accounts_other,
        by_owner_other=by_owner_other,
        by_ou_other=by_ou_other,
    )


# Keys of `_rule_counts` beside the compliance types and evaluation flags.
_OTHER, _UNREAD, _FAILING = "other compliance", "unread", "failing evaluations"


def _rule_counts(report: Report) -> Counter[str]:
    """The rule results by compliance (COMPLIANT, NON_COMPLIANT, `_OTHER`), unread, by evaluation flag,
    and their failing evaluations (`_FAILING`): one pass, nothing held."""
    counts: Counter[str] = Counter()
    for rule in report.rules():
        known = rule.compliance in (Compliance.COMPLIANT, Compliance.NON_COMPLIANT)
        counts[rule.compliance if known else _OTHER] += 1
        counts[_UNREAD] += rule.unread
        if rule.evaluation_flag is not None:
            counts[rule.evaluation_flag] += 1
        counts[_FAILING] += rule.noncompliant_resources
    return counts


@dataclass
class _Tally:
    """What the figures count of the findings, added up account by account."""

    groups: GroupCounts
    resources: int = 0  # distinct, not accepted
    accepted_resources: int = 0  # distinct, every failing evaluation of theirs accepted
    accepted_findings: int = 0
    severity_of: dict[str, Severity] = field(default_factory=dict)  # normalized rule name → severity
    owner_accounts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def _tally(report: Report) -> _Tally:
    """One pass over the findings, holding one account's resources at a time: a resource is in one
    account, so counts of distinct resources taken account by account add up."""
    ou_of = {s.account.id: s.account.ou for s in report.scans}
    tally = _Tally(groups=empty_counts())
    for scan in report.scans:
        groups = empty_groups()
        accepted: set[Resource] = set()
        for finding in scan.findings:
            # An accepted finding is a decided risk, not work to do: it leaves the headline and rankings.
            if finding.accepted is not None:
                accepted.add(finding.resource)
                tally.accepted_findings += 1
                continue
            add_to_groups(groups, finding, ou_of)
            known = tally.severity_of.get(finding.normalized_name)
            if known is None or finding.severity.rank < known.rank:
                tally.severity_of[finding.normalized_name] = finding.severity
            tally.owner_accounts[owner_group(finding)].add(finding.account_id)
        add_counts(tally.groups, groups)
        failing = groups[ACCOUNT].get(scan.account.id, set())
        tally.resources += len(failing)
        tally.accepted_resources += len(accepted - failing)
    return tally


def _resources_failing_any(report: Report, rules: frozenset[str]) -> int:
    """Distinct resources failing at least one of `rules` (normalized names), accepted findings aside."""
    total = 0
    for scan in report.scans:
        total += len({f.resource for f in scan.findings if f.accepted is None and f.normalized_name in rules})
    return total


# --- the rankings and their groups --------------------------------------------------------------------

RULE, ACCOUNT, OWNER, OU = "rule", "account", "owner", "ou"
"""The kinds of group the Summary ranks: a rule (by its normalized name), an account, an owner, an OU."""
URGENT, URGENT_BY_ACCOUNT = "urgent", "urgent account"
"""The resources failing a CRITICAL or HIGH rule: in all (one group, `URGENT_GROUP`), and per account."""
URGENT_GROUP = "critical or high"
URGENT_SEVERITIES = frozenset({Severity.CRITICAL, Severity.HIGH})

Groups = dict[str, dict[str, set[Resource]]]
GroupCounts = dict[str, Counter[str]]
"""Kind → group → how many distinct resources fail in it."""
ChangeOf = Callable[[str, str], int | None]
_KINDS = (RULE, ACCOUNT, OWNER, OU, URGENT, URGENT_BY_ACCOUNT)


def owner_group(finding: Finding) -> str:
    """The owner a finding counts under in `By owner`."""
    return finding.owner.name if finding.owner and finding.owner.name else NO_OWNER


def empty_groups() -> Groups:
    """Kind → group → resources, empty: `add_to_groups` fills it with one account's findings."""
    return {kind: defaultdict(set) for kind in _KINDS}


def empty_counts() -> GroupCounts:
    """Kind → group → resource count, all zero."""
    return {kind: Counter() for kind in _KINDS}


def add_to_groups(groups: Groups, finding: Finding, ou_of: Mapping[str, str]) -> None:
    """Put `finding`'s resource in each group it fails in (`ou_of`: account ID → its OU)."""
    resource = finding.resource
    # One organization-wide control is one entry, whatever suffix each account's copy carries.
    groups[RULE][finding.normalized_name].add(resource)
    groups[ACCOUNT][finding.account_id].add(resource)
    groups[OWNER][owner_group(finding)].add(resource)
    groups[OU][ou_of.get(finding.account_id, "")].add(resource)
    if finding.severity in URGENT_SEVERITIES:
        groups[URGENT][URGENT_GROUP].add(resource)
        groups[URGENT_BY_ACCOUNT][finding.account_id].add(resource)


def groups_of(findings: Iterable[Finding], ou_of: Mapping[str, str]) -> Groups:
    """Kind → group → the distinct resources failing in it, for findings few enough to hold (a week's
    new ones); a report's are counted account by account (`add_counts`)."""
    groups = empty_groups()
    for finding in findings:
        add_to_groups(groups, finding, ou_of)
    return groups


def add_counts(counts: GroupCounts, groups: Groups) -> None:
    """Add one account's groups to `counts` (resources of different accounts never coincide)."""
    for kind, named in groups.items():
        counts[kind].update({name: len(found) for name, found in named.items()})


def compliant_share(rules: Iterable[RuleResult]) -> float | None:
    """Compliant rules ÷ rules judged (compliant or not): an account's compliance; None when none was."""
    compliant, judged = _judged(rules)
    return compliant / judged if judged else None


def _judged(rules: Iterable[RuleResult]) -> tuple[int, int]:
    """How many of `rules` are compliant, and how many were judged compliant or not."""
    states = Counter(r.compliance for r in rules)
    return states[Compliance.COMPLIANT], states[Compliance.COMPLIANT] + states[Compliance.NON_COMPLIANT]


def share_changes(now: Iterable[RuleResult], before: Iterable[RuleResult]) -> dict[str, float]:
    """Account ID → its compliant share now minus before, both over the same rules' places; only where
    both runs judged a rule."""
    shares = [_shares_by_account(rules) for rules in (now, before)]
    return {
        account: share - shares[1][account] for account, share in shares[0].items() if account in shares[1]
    }


def _shares_by_account(rules: Iterable[RuleResult]) -> dict[str, float]:
    compliant: Counter[str] = Counter()
    judged: Counter[str] = Counter()
    for rule in rules:
        if rule.compliance in (Compliance.COMPLIANT, Compliance.NON_COMPLIANT):
            judged[rule.account_id] += 1
            compliant[rule.account_id] += rule.compliance is Compliance.COMPLIANT
    return {account: compliant[account] / count for account, count in judged.items()}


def group_changes(now: GroupCounts, before: GroupCounts) -> dict[tuple[str, str], int]:
    """(kind, group) → resources now minus resources before, both counted over the same places."""
    return {
        (kind, name): now[kind][name] - before[kind][name]
        for kind in now
        for name in now[kind].keys() | before[kind].keys()
    }


def _change_of(changes: Changes | None) -> ChangeOf:
    if changes is None or not changes.baseline.usable:
        return lambda kind, name: None
    return lambda kind, name: changes.group_changes.get((kind, name), 0)


def _ranked(
    counts: Mapping[str, int],
    kind: str,
    label: Callable[[str], str],
    change: ChangeOf,
    *,
    order: Callable[[str, int], tuple[int, ...]],
    others: Callable[[list[str]], int],
    severity: Callable[[str], Severity | None] = lambda name: None,
    urgent: Callable[[str], int | None] = lambda name: None,
) -> tuple[tuple[RankedItem, ...], RankedItem | None]:
    """The `TOP` groups in `order` (most urgent first; then by name), and one row for the rest (`others`
    counts their resources)."""
    ordered = sorted(counts.items(), key=lambda item: (*order(*item), item[0]))
    top = tuple(
        RankedItem(label(name), found, change(kind, name), severity(name), urgent(name))
        for name, found in ordered[:TOP]
    )
    rest = [name for name, _ in ordered[TOP:]]
    if not rest:
        return top, None
    # Rules overlap (one resource, several rules): their changes do not add up; the others' do.
    total = None if kind == RULE else _sum_changes(change(kind, name) for name in rest)
    return top, RankedItem(f"other {len(rest):,} {_PLURAL[kind]}", others(rest), total)


_PLURAL = {RULE: "rules", ACCOUNT: "accounts", OWNER: "owners", OU: "OUs"}


def _sum_changes(changes: Iterable[int | None]) -> int | None:
    known = list(changes)
    return None if any(c is None for c in known) else sum(c for c in known if c is not None)


def _by_owner(
    resources: Mapping[str, int], accounts: Mapping[str, set[str]], change: ChangeOf
) -> tuple[tuple[GroupFigures, ...], GroupFigures | None]:
    """Per owner: resources and the accounts they are in. No compliant share: only the failing
    resources' owners are known (Config is asked for their tags alone), so the resources an owner has
    that pass are not."""
    rows = [
        GroupFigures(name, count, len(accounts[name]), 0, 0, change(OWNER, name))
        for name, count in resources.items()
    ]
    return _top(rows, OWNER, accounts)


def _by_ou(
    resources: Mapping[str, int], scans: Sequence[AccountScan], change: ChangeOf
) -> tuple[tuple[GroupFigures, ...], GroupFigures | None]:
    """Per OU: resources, accounts in scope, and the share of compliant rules over the OU's accounts,
    so production OUs can be told from sandboxes at a glance."""
    members: dict[str, list[AccountScan]] = defaultdict(list)
    for scan in scans:
        members[scan.account.ou].append(scan)
    rows = []
    for ou, accounts in members.items():
        compliant, judged = _judged(r for s in accounts for r in s.rules)
        count = resources.get(ou, 0)
        rows.append(GroupFigures(ou, count, len(accounts), compliant, judged, change(OU, ou)))
    return _top(rows, OU, {ou: {s.account.id for s in accounts} for ou, accounts in members.items()})


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
