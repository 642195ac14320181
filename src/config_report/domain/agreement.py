"""Whether the aggregator says what the accounts say: `config-report verify`'s judgement.

Both sources are read into the same `AccountScan`s; this compares them place by place (account ×
region) and lists every difference:

- `NOT_READ`: one source could not read a place the other could (a failed or stale aggregator source,
  an account it does not cover, a denied spoke role), or one rule of it;
- `COVERAGE`: one source reports rules where the other reports a state of the account (no Config, a
  stopped recorder...): the two disagree about whether there is anything to report there;
- `COMPLIANCE`: a rule is COMPLIANT in one and NON_COMPLIANT in the other;
- `MISSING` and `EXTRA`: a failing evaluation (rule × resource) only the accounts, or only the
  aggregator, report.

What the aggregator cannot know is not a difference: a rule without results (INSUFFICIENT_DATA in the
account, not listed by the aggregator), the words of an account's state (the aggregator says
`OUTDATED` both for a stopped and for a failing recorder), annotations, owners and evaluation flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from config_report.domain.model import AccountScan, Compliance, Coverage, CoverageStatus, RuleResult

Place = tuple[str, str]  # account ID, region
_JUDGED = (Compliance.COMPLIANT, Compliance.NON_COMPLIANT)


class DifferenceKind(StrEnum):
    """What kind of disagreement a difference is."""

    NOT_READ = "not read"
    COVERAGE = "coverage"
    COMPLIANCE = "compliance"
    MISSING = "missing from the aggregator"
    EXTRA = "only in the aggregator"


@dataclass(frozen=True, slots=True)
class Difference:
    """One disagreement between the accounts (read through their spoke roles) and the aggregator."""

    kind: DifferenceKind
    account_id: str
    region: str
    accounts_say: str
    aggregator_says: str
    rule_name: str = ""
    resource: str = ""  # resource type and ID, for a failing evaluation

    def line(self) -> str:
        """One line for a person: where, what, and what each source says."""
        subject = " ".join(p for p in (self.rule_name, self.resource) if p)
        where = f"{self.account_id} {self.region}" + (f" {subject}" if subject else "")
        return (
            f"{self.kind.value}: {where}: accounts: {self.accounts_say}; aggregator: {self.aggregator_says}"
        )


@dataclass(frozen=True, slots=True)
class Agreement:
    """Every difference found, and how much was compared where both sources read."""

    differences: tuple[Difference, ...]
    places_compared: int  # account-regions both sources read
    rules_compared: int  # rule results judged COMPLIANT or NON_COMPLIANT by either, in those places
    evaluations_compared: int  # failing evaluations reported by either, in those places

    @property
    def agree(self) -> bool:
        """True when the two sources report the same thing everywhere."""
        return not self.differences

    @property
    def places_differing(self) -> int:
        """Account-regions with at least one difference."""
        return len({(d.account_id, d.region) for d in self.differences})


@dataclass(frozen=True, slots=True)
class _Side:
    """What one source reported of one place."""

    coverage: Coverage | None
    rules: tuple[RuleResult, ...]
    evaluations: frozenset[tuple[str, str, str]]  # rule, resource type, resource ID

    @property
    def read(self) -> bool:
        return self.coverage is not None and self.coverage.status is CoverageStatus.OK

    @property
    def gap(self) -> bool:
        return self.coverage is None or self.coverage.status.is_gap

    def says(self) -> str:
        if self.coverage is None:
            return "not covered"
        detail = f" ({self.coverage.detail})" if self.coverage.detail else ""
        return f"{self.coverage.status.value}{detail}"

    def judged(self) -> dict[str, Compliance]:
        return {r.rule_name: r.compliance for r in self.rules if r.compliance in _JUDGED and not r.unread}


def compare_sources(accounts: Sequence[AccountScan], aggregator: Sequence[AccountScan]) -> Agreement:
    """Every difference between what the accounts and the aggregator report, place by place."""
    mine, theirs = _sides(accounts), _sides(aggregator)
    differences: list[Difference] = []
    compared = rules = evaluations = 0
    for place in sorted(mine.keys() | theirs.keys()):
        empty = _Side(None, (), frozenset())
        ours, other = mine.get(place, empty), theirs.get(place, empty)
        differences.extend(_place_differences(place, ours, other))
        if ours.read and other.read:
            compared += 1
            rules += len(ours.judged().keys() | other.judged().keys())
            evaluations += len(ours.evaluations | other.evaluations)
    return Agreement(tuple(differences), compared, rules, evaluations)


def _sides(scans: Iterable[AccountScan]) -> dict[Place, _Side]:
    sides: dict[Place, _Side] = {}
    for scan in scans:
        for coverage in scan.coverage:
            place = (coverage.account_id, coverage.region)
            rules = tuple(r for r in scan.rules if (r.account_id, r.region) == place)
            evaluations = frozenset(
                (f.rule_name, f.resource_type, f.resource_id)
                for f in scan.findings
                if (f.account_id, f.region) == place
            )
            sides[place] = _Side(coverage, rules, evaluations)
    return sides


def _place_differences(place: Place, ours: _Side, other: _Side) -> Iterator[Difference]:
    if ours.gap or other.gap:
        # A place one source does not list at all, where the other has nothing to report, agrees.
        if not (_nothing(ours, other) or _nothing(other, ours)):
            yield Difference(DifferenceKind.NOT_READ, *place, ours.says(), other.says())
        return
    if ours.read != other.read:
        reading = ours if ours.read else other
        if reading.judged() or reading.evaluations:
            yield Difference(DifferenceKind.COVERAGE, *place, _summary(ours), _summary(other))
        return
    if ours.read:
        yield from _rule_differences(place, ours, other)


def _nothing(absent: _Side, present: _Side) -> bool:
    """True when `absent` lists no such place and `present` reports a state of the account there."""
    return absent.coverage is None and not present.read and not present.gap


def _summary(side: _Side) -> str:
    if not side.read:
        return side.says()
    return f"read: {len(side.judged())} rule(s) judged, {len(side.evaluations)} failing evaluation(s)"


def _rule_differences(place: Place, ours: _Side, other: _Side) -> Iterator[Difference]:
    for rule in sorted({r.rule_name for r in ours.rules + other.rules if r.unread}):
        yield Difference(
            DifferenceKind.NOT_READ, *place, _rule_read(ours, rule), _rule_read(other, rule), rule_name=rule
        )
    unread = {r.rule_name for r in ours.rules + other.rules if r.unread}
    mine, theirs = ours.judged(), other.judged()
    for rule in sorted((mine.keys() | theirs.keys()) - unread):
        if mine.get(rule) != theirs.get(rule):
            says = (_compliance(mine.get(rule)), _compliance(theirs.get(rule)))
            yield Difference(DifferenceKind.COMPLIANCE, *place, *says, rule_name=rule)
    for kind, found, absent in (
        (DifferenceKind.MISSING, ours.evaluations, other.evaluations),
        (DifferenceKind.EXTRA, other.evaluations, ours.evaluations),
    ):
        for rule, resource_type, resource_id in sorted(found - absent):
            if rule in unread:
                continue
            failing = ("NON_COMPLIANT", "not non-compliant")
            says = failing if kind is DifferenceKind.MISSING else failing[::-1]
            yield Difference(kind, *place, *says, rule_name=rule, resource=f"{resource_type} {resource_id}")


def _rule_read(side: _Side, rule: str) -> str:
    found = [r for r in side.rules if r.rule_name == rule]
    if not found:
        return "not listed"
    return f"{found[0].read_status.value} ({found[0].read_detail})" if found[0].unread else "read"


def _compliance(value: Compliance | None) -> str:
    return value.value if value is not None else "no results (INSUFFICIENT_DATA)"
