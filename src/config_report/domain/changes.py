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

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from itertools import chain

from config_report.domain.figures import (
    ACCOUNT,
    URGENT,
    URGENT_GROUP,
    Groups,
    add_counts,
    add_to_groups,
    empty_counts,
    empty_groups,
    group_changes,
    share_changes,
)
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
    RuleResult,
)
from config_report.domain.shelved import Shelf, ShelvedBuilder, shelf_of, shelved_like

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
    The two runs are compared one account at a time, so memory holds one account's findings of each.
    """
    today = current.run.started_at.date()
    if previous is None:
        scans = tuple(
            _with_findings(scan, (replace(f, first_seen=today) for f in scan.findings))
            for scan in current.scans
        )
        return replace(current, scans=scans, changes=Changes(baseline=baseline), carried=())
    comparison = _Comparison(current, previous)
    scans = tuple(comparison.account(scan) for scan in current.scans)
    changes = Changes(
        baseline=baseline,
        new=comparison.new.done(),
        resolved=comparison.resolved.done(),
        persisting=comparison.persisting,
        not_comparable=comparison.not_comparable,
        not_read_now=comparison.not_read_now.done(),
        new_resources=comparison.new_resources,
        resolved_resources=comparison.resolved_resources,
        group_changes=group_changes(comparison.groups_now, comparison.groups_before),
        share_changes=share_changes(
            filter(comparison.compared, current.rules()), filter(comparison.compared, previous.rules())
        ),
        joined=_accounts_missing_from(current.accounts, previous.accounts),
        left=_accounts_missing_from(previous.accounts, current.accounts),
    )
    return replace(current, scans=scans, changes=changes, carried=comparison.carried.done())


class _Comparison:
    """The comparison of two runs, account by account: each account's findings judged, and the totals."""

    def __init__(self, current: Report, previous: Report) -> None:
        self.today = current.run.started_at.date()
        self.earlier_day = previous.run.started_at.date()
        self.comparable = _read_places(current) & _read_places(previous)
        self.unread = _unread_rules(current) | _unread_rules(previous)
        self.not_read = _not_read_in(current)
        self.ou_of = {a.id: a.ou for a in (*previous.accounts, *current.accounts)}
        self.before_scans = {s.account.id: s.findings for s in previous.scans}
        self.carried_before: dict[str, list[Finding]] = defaultdict(list)
        for finding in previous.carried:
            self.carried_before[finding.account_id].append(finding)
        shelf = _shelf(current)
        self.new: ShelvedBuilder[Finding] = ShelvedBuilder(shelf)
        self.resolved: ShelvedBuilder[Finding] = ShelvedBuilder(shelf)
        self.not_read_now: ShelvedBuilder[Finding] = ShelvedBuilder(shelf)
        self.carried: ShelvedBuilder[Finding] = ShelvedBuilder(shelf)
        self.persisting = self.not_comparable = self.new_resources = self.resolved_resources = 0
        self.groups_now, self.groups_before = empty_counts(), empty_counts()

    def compared(self, item: Finding | RuleResult) -> bool:
        """True where both runs read the item's place and rule in full."""
        return (item.account_id, item.region) in self.comparable and _rule_place(item) not in self.unread

    def account(self, scan: AccountScan) -> AccountScan:
        """`scan` with its findings judged against the previous run's findings of the same account."""
        earlier = self.before_scans.get(scan.account.id, ())
        # The previous run's own findings win over what it carried, should both hold one key.
        before = {
            finding_key(f): _dated(f, self.earlier_day)
            for f in chain(self.carried_before.pop(scan.account.id, ()), earlier)
        }
        # Each week's findings are read once more, not once per figure: they come back from the spool.
        now_keys: set[FindingKey] = set()
        groups_now, groups_before = empty_groups(), empty_groups()
        judged = _with_findings(scan, (self._judged(f, before, now_keys, groups_now) for f in scan.findings))
        for finding in earlier:
            if self.not_read(finding):
                self.not_read_now.add(finding)
            if not self.compared(finding):
                continue
            self._count(groups_before, finding)
            if finding_key(finding) not in now_keys:
                self.resolved.add(replace(_dated(finding, self.earlier_day), status=FindingStatus.RESOLVED))
        self.carried.extend(replace(f, status=None) for f in before.values() if self.not_read(f))
        add_counts(self.groups_now, groups_now)
        add_counts(self.groups_before, groups_before)
        resources_now = groups_now[ACCOUNT].get(scan.account.id, set())
        resources_before = groups_before[ACCOUNT].get(scan.account.id, set())
        self.new_resources += len(resources_now - resources_before)
        self.resolved_resources += len(resources_before - resources_now)
        return judged

    def _judged(
        self, finding: Finding, before: dict[FindingKey, Finding], now_keys: set[FindingKey], groups: Groups
    ) -> Finding:
        """`finding` with its status and first-seen date; its key and resource noted as it goes."""
        key = finding_key(finding)
        now_keys.add(key)
        known = before.get(key)
        first_seen = known.first_seen if known is not None else self.today
        if not self.compared(finding):
            status = None
            self.not_comparable += 1
        elif known is None:
            status = FindingStatus.NEW
        else:
            status = FindingStatus.PERSISTING
            self.persisting += 1
        judged = replace(finding, first_seen=first_seen, status=status)
        if status is FindingStatus.NEW:
            self.new.add(judged)
        if status is not None:
            self._count(groups, judged)
        return judged

    def _count(self, groups: Groups, finding: Finding) -> None:
        # The headline counts resources, not evaluations, and leaves accepted findings out: so does its
        # change, and so do the changes of the Summary's rankings.
        if finding.accepted is None:
            add_to_groups(groups, finding, self.ou_of)


def _shelf(report: Report) -> Shelf | None:
    """Where `report` keeps its findings: what it derives from them is kept there too."""
    return next((shelf for s in report.scans if (shelf := shelf_of(s.findings)) is not None), None)


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
    return replace(scan, findings=shelved_like(scan.findings, findings))


def _accounts_missing_from(these: Iterable[Account], those: Iterable[Account]) -> tuple[Account, ...]:
    known = {a.id for a in those}
    return tuple(a for a in these if a.id not in known)
