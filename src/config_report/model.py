"""The in-memory result of one run: what every later stage (workbook, snapshot, Jira) reads.

Scanning workers return these values; only the coordinator assembles them into a `Report`.
Everything is frozen so no stage can change what another stage already reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Compliance(StrEnum):
    """AWS Config's own words for a rule's or a resource's compliance."""

    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class CoverageStatus(StrEnum):
    """What happened when one account × region was scanned."""

    OK = "OK"
    CONFIG_NOT_ENABLED = "CONFIG_NOT_ENABLED"
    ACCESS_DENIED = "ACCESS_DENIED"
    ERROR = "ERROR"

    @property
    def is_gap(self) -> bool:
        """True when the account × region could not be read (a gap in the report, exit code 3)."""
        return self in (CoverageStatus.ACCESS_DENIED, CoverageStatus.ERROR)


# Used as the region of a coverage row when an account failed before its regions were known.
ALL_REGIONS = "all regions"


@dataclass(frozen=True, slots=True)
class Account:
    """An ACTIVE member account of the organization."""

    id: str
    name: str
    ou: str = "Root"
    ou_ids: tuple[str, ...] = ()
    email: str = ""


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One Config rule's compliance in one account and region."""

    account_id: str
    region: str
    rule_name: str
    compliance: Compliance
    noncompliant_resources: int = 0


@dataclass(frozen=True, slots=True)
class Finding:
    """One non-compliant evaluation: a resource that fails a rule."""

    account_id: str
    region: str
    rule_name: str
    resource_type: str
    resource_id: str
    annotation: str = ""
    last_evaluated: datetime | None = None


@dataclass(frozen=True, slots=True)
class Coverage:
    """Whether one account × region was read, and why not when it was not."""

    account_id: str
    region: str
    status: CoverageStatus
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AccountScan:
    """Everything read from one account, including what could not be read."""

    account: Account
    rules: tuple[RuleResult, ...] = ()
    findings: tuple[Finding, ...] = ()
    coverage: tuple[Coverage, ...] = ()

    @property
    def status(self) -> str:
        """`OK` when every region was read; else the worst coverage status, or `PARTIAL` when mixed."""
        gaps = {c.status for c in self.coverage if c.status.is_gap}
        if not gaps:
            return CoverageStatus.OK.value
        if len(gaps) == 1 and all(c.status.is_gap for c in self.coverage):
            return next(iter(gaps)).value
        return "PARTIAL"


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Who ran what, when: the manifest's header and the workbook's footnote."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    identity: str
    regions: tuple[str, ...] = ()
    settings: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RankedItem:
    """A name with its count of non-compliant resources, for the 'worst' lists."""

    name: str
    count: int


@dataclass(frozen=True, slots=True)
class Figures:
    """Headline figures, computed once and shared by the workbook, logs, manifest and Jira."""

    accounts: int
    accounts_fully_scanned: int
    regions_scanned: int
    regions_total: int
    regions_without_config: int
    coverage_gaps: int
    rules_compliant: int
    rules_noncompliant: int
    rules_other: int
    noncompliant_resources: int
    worst_rules: tuple[RankedItem, ...]
    worst_accounts: tuple[RankedItem, ...]

    @property
    def complete(self) -> bool:
        """True when no account or region is missing from the report."""
        return self.coverage_gaps == 0


@dataclass(frozen=True, slots=True)
class Report:
    """The whole run's result, in account order."""

    run: RunInfo
    scans: tuple[AccountScan, ...]

    @property
    def accounts(self) -> tuple[Account, ...]:
        """The accounts that were in scope, scanned or not."""
        return tuple(s.account for s in self.scans)

    def account_names(self) -> dict[str, str]:
        """Account ID → name, for writers that add the name beside every ID."""
        return {s.account.id: s.account.name for s in self.scans}

    def rules(self) -> Iterator[RuleResult]:
        """Every rule result, account by account."""
        for scan in self.scans:
            yield from scan.rules

    def findings(self) -> Iterator[Finding]:
        """Every non-compliant evaluation, account by account."""
        for scan in self.scans:
            yield from scan.findings

    def coverage(self) -> Iterator[Coverage]:
        """Every account × region coverage row."""
        for scan in self.scans:
            yield from scan.coverage

    def figures(self, *, top: int = 10) -> Figures:
        """Headline figures; `top` bounds the worst-rules and worst-accounts lists."""
        coverage = list(self.coverage())
        rules = list(self.rules())
        by_rule: Counter[str] = Counter()
        by_account: Counter[str] = Counter()
        for rule in rules:
            by_rule[rule.rule_name] += rule.noncompliant_resources
            by_account[rule.account_id] += rule.noncompliant_resources
        names = self.account_names()
        return Figures(
            accounts=len(self.scans),
            accounts_fully_scanned=sum(1 for s in self.scans if s.status == CoverageStatus.OK.value),
            regions_scanned=sum(1 for c in coverage if c.status is CoverageStatus.OK),
            regions_total=len(coverage),
            regions_without_config=sum(1 for c in coverage if c.status is CoverageStatus.CONFIG_NOT_ENABLED),
            coverage_gaps=sum(1 for c in coverage if c.status.is_gap),
            rules_compliant=sum(1 for r in rules if r.compliance is Compliance.COMPLIANT),
            rules_noncompliant=sum(1 for r in rules if r.compliance is Compliance.NON_COMPLIANT),
            rules_other=sum(
                1 for r in rules if r.compliance not in (Compliance.COMPLIANT, Compliance.NON_COMPLIANT)
            ),
            noncompliant_resources=sum(by_rule.values()),
            worst_rules=_ranked(by_rule, top, lambda name: name),
            worst_accounts=_ranked(by_account, top, lambda acct: f"{names.get(acct, '')} ({acct})"),
        )


def _ranked(counts: Counter[str], top: int, label: Callable[[str], str]) -> tuple[RankedItem, ...]:
    ordered = sorted(((n, c) for n, c in counts.items() if c > 0), key=lambda item: (-item[1], item[0]))
    return tuple(RankedItem(name=label(name), count=count) for name, count in ordered[:top])
