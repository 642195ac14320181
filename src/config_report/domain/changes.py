"""Week over week: which findings are new, which persist (and since when), which were resolved.

A pure function of the previous run's report (read back from its snapshot) and this run's report.
A finding is identified by `finding_key`: account, region, normalized rule name, resource type and
resource ID, so a rule redeployed under a new generated suffix keeps its findings' history.

Honest comparisons: only an account-region read (`OK`) in both runs is compared, and within it only
the rules read in full in both runs. Elsewhere (a coverage gap in either run, a rule that alone could
not be read, Config switched off, a filter, an account that joined or left) nothing is counted as new
or resolved. The first-seen dates of earlier findings in a place this run could not read are
carried in this run's snapshot (`Report.carried`), so they survive until the place is read again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date

from config_report.domain.figures import URGENT, URGENT_GROUP, group_changes, groups_of, share_changes
from config_report.domain.model import (
    Account,
    AccountScan,
    Baseline,
    Changes,
    CoverageStatus,
    Figures,
    Finding,
    FindingStatus,
    Report,
    Resource,
    RuleResult,
)

FindingKey = tuple[str, str, str, str, str]
Place = tuple[str, str]
# A rule in one place, by its control name: where a rule alone could not be read.
RulePlace = tuple[str, str, str]


def finding_key(finding: Finding) -> FindingKey:
    """What makes two findings the same across runs: account, region, control, resource type and ID."""
    return (*_rule_place(finding), finding.resource_type, finding.resource_id)


def _rule_place(item: Finding | RuleResult) -> RulePlace:
    return (item.account_id, item.region, item.normalized_name)


def compare(current: Report, previous: Report | None, baseline: Baseline) -> Report:
    """`current` with each finding's status and first-seen date, its `changes` and its `carried` findings.

    `previous` is the baseline run's report, or None when there is no usable baseline (then every
    finding is first seen today and has no status). `baseline` describes where it came from.
    """
    today = current.run.started_at.date()
    if previous is None:
        scans = tuple(
            _with_findings(scan, (replace(f, first_seen=today) for f in scan.findings))
            for scan in current.scans
        )
        return replace(current, scans=scans, changes=Changes(baseline=baseline), carried=())
    earlier_day = previous.run.started_at.date()
    comparable = _read_places(current) & _read_places(previous)
    unread = _unread_rules(current) | _unread_rules(previous)

    def compared(item: Finding | RuleResult) -> bool:
        return (item.account_id, item.region) in comparable and _rule_place(item) not in unread

    before = {finding_key(f): _dated(f, earlier_day) for f in (*previous.carried, *previous.findings())}

    judged_scans = []
    new: list[Finding] = []
    persisting = not_comparable = 0
    for scan in current.scans:
        judged = []
        for finding in scan.findings:
            known = before.get(finding_key(finding))
            first_seen = known.first_seen if known is not None else today
            if not compared(finding):
                status = None
                not_comparable += 1
            elif known is None:
                status = FindingStatus.NEW
            else:
                status = FindingStatus.PERSISTING
                persisting += 1
            judged.append(replace(finding, first_seen=first_seen, status=status))
            if status is FindingStatus.NEW:
                new.append(judged[-1])
        judged_scans.append(_with_findings(scan, judged))

    now_keys = {finding_key(f) for f in current.findings()}
    resolved = tuple(
        replace(_dated(f, earlier_day), status=FindingStatus.RESOLVED)
        for f in previous.findings()
        if compared(f) and finding_key(f) not in now_keys
    )
    # The headline counts resources, not evaluations, and leaves accepted findings out: so does its change,
    # and so do the changes of the Summary's rankings.
    resources_now = _resources(f for f in current.findings() if compared(f))
    resources_before = _resources(f for f in previous.findings() if compared(f))
    ou_of = {a.id: a.ou for a in (*previous.accounts, *current.accounts)}
    groups_now = groups_of((f for f in current.findings() if compared(f) and f.accepted is None), ou_of)
    groups_before = groups_of((f for f in previous.findings() if compared(f) and f.accepted is None), ou_of)
    changes = Changes(
        baseline=baseline,
        new=tuple(new),
        resolved=resolved,
        persisting=persisting,
        not_comparable=not_comparable,
        not_read_now=tuple(filter(_not_read_in(current), previous.findings())),
        new_resources=len(resources_now - resources_before),
        resolved_resources=len(resources_before - resources_now),
        group_changes=group_changes(groups_now, groups_before),
        share_changes=share_changes(filter(compared, current.rules()), filter(compared, previous.rules())),
        joined=_accounts_missing_from(current.accounts, previous.accounts),
        left=_accounts_missing_from(previous.accounts, current.accounts),
    )
    return replace(current, scans=tuple(judged_scans), changes=changes, carried=_carry(current, before))


# The headline figures whose change is counted where both runs read, not as the difference of totals.
_LIKE_FOR_LIKE: dict[str, Callable[[Changes], int]] = {
    "noncompliant_resources": lambda changes: changes.resources_change,
    "failing_evaluations": lambda changes: changes.evaluations_change,
    "critical_high_resources": lambda changes: changes.group_changes.get((URGENT, URGENT_GROUP), 0),
}


def figure_change(figures: Figures, changes: Changes | None, field: str) -> int | None:
    """The change of headline figure `field` (a `Figures` attribute) since the baseline; None without one.

    Findings are compared like for like (new minus resolved, where both runs read); any other figure is
    this run's minus the baseline's.
    """
    previous = changes.baseline.figures if changes is not None and changes.baseline.usable else None
    if changes is None or previous is None:
        return None
    if field in _LIKE_FOR_LIKE:
        return _LIKE_FOR_LIKE[field](changes)
    now: int = getattr(figures, field)
    before: int = getattr(previous, field)
    return now - before


def _resources(findings: Iterable[Finding]) -> set[Resource]:
    return {f.resource for f in findings if f.accepted is None}


def _not_read_in(report: Report) -> Callable[[Finding], bool]:
    """True for a finding of an account still in scope, in a place or rule that `report` could not read."""
    read = _read_places(report)
    unread = _unread_rules(report)
    in_scope = {a.id for a in report.accounts}

    def not_read(finding: Finding) -> bool:
        place = (finding.account_id, finding.region)
        return finding.account_id in in_scope and (place not in read or _rule_place(finding) in unread)

    return not_read


def _read_places(report: Report) -> set[Place]:
    return {(c.account_id, c.region) for c in report.coverage() if c.status is CoverageStatus.OK}


def _unread_rules(report: Report) -> set[RulePlace]:
    return {_rule_place(rule) for rule in report.rules() if rule.unread}


def _dated(finding: Finding, default: date) -> Finding:
    # A snapshot written before first-seen dates were stored: its run is the earliest date known.
    return finding if finding.first_seen is not None else replace(finding, first_seen=default)


def _with_findings(scan: AccountScan, findings: Iterable[Finding]) -> AccountScan:
    return replace(scan, findings=tuple(findings))


def _accounts_missing_from(these: Iterable[Account], those: Iterable[Account]) -> tuple[Account, ...]:
    known = {a.id for a in those}
    return tuple(a for a in these if a.id not in known)


def _carry(current: Report, before: dict[FindingKey, Finding]) -> tuple[Finding, ...]:
    """Earlier findings of accounts still in scope, in places or rules that this run could not read."""
    not_read = _not_read_in(current)
    return tuple(replace(f, status=None) for f in before.values() if not_read(f))
