"""The in-memory result of one run: what every later stage (workbook, snapshot, Jira) reads.

Scanning workers return these values; only the coordinator assembles them into a `Report`.
Everything is frozen so no stage can change what another stage already reported.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from config_report.domain.severity import Severity
from config_report.domain.shelved import shelf_of, shelved_of


class Compliance(StrEnum):
    """AWS Config's own words for a rule's or a resource's compliance."""

    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"

    @classmethod
    def _missing_(cls, value: object) -> Compliance | None:
        # A compliance type AWS adds later is reported as it came, not refused: it becomes a
        # pseudo-member that equals no known one (so it counts as "other"), with its own `.value`.
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """False for a compliance type this version does not know (reported as it came)."""
        return self.name in type(self).__members__


class CoverageStatus(StrEnum):
    """What happened when one account × region was scanned.

    `OK` is the only status that counts as read. `CONFIG_NOT_ENABLED`, `CONFIG_NOT_RECORDING`,
    `CONFIG_RECORDER_FAILING` (recording, but its last recording event failed: results are stale),
    `REGION_NOT_ENABLED` and `DENIED_BY_SCP` are states of the account, reported but not gaps;
    `ACCESS_DENIED`, `ERROR` and `INTERRUPTED` are gaps (exit code 3).
    """

    OK = "OK"
    CONFIG_NOT_ENABLED = "CONFIG_NOT_ENABLED"
    CONFIG_NOT_RECORDING = "CONFIG_NOT_RECORDING"
    CONFIG_RECORDER_FAILING = "CONFIG_RECORDER_FAILING"
    REGION_NOT_ENABLED = "REGION_NOT_ENABLED"
    DENIED_BY_SCP = "DENIED_BY_SCP"
    ACCESS_DENIED = "ACCESS_DENIED"
    ERROR = "ERROR"
    INTERRUPTED = "INTERRUPTED"

    @property
    def is_gap(self) -> bool:
        """True when the account × region could not be read (a gap in the report, exit code 3)."""
        return self in (CoverageStatus.ACCESS_DENIED, CoverageStatus.ERROR, CoverageStatus.INTERRUPTED)


class AccountStatus(StrEnum):
    """How completely one account was read: the Accounts sheet's `Scan Status`.

    `OK` when every region and rule was read; one gap status when every region failed the same way
    (e.g. the spoke role could not be assumed); `PARTIAL` when some of it was read.
    """

    OK = "OK"
    PARTIAL = "PARTIAL"
    ACCESS_DENIED = CoverageStatus.ACCESS_DENIED.value
    ERROR = CoverageStatus.ERROR.value
    INTERRUPTED = CoverageStatus.INTERRUPTED.value

    @property
    def complete(self) -> bool:
        """True when nothing of the account is missing from the report."""
        return self is AccountStatus.OK


class EvaluationFlag(StrEnum):
    """Why a rule's results deserve doubt (DescribeConfigRuleEvaluationStatus)."""

    FAILED = "FAILED"  # its last evaluation failed
    STALE = "STALE"  # its last successful evaluation is older than CONFIG_REPORT_STALE_RULE_DAYS


class SkipReason(StrEnum):
    """Why a rule that exists was left out of the report (counted in a note on the Summary)."""

    DELETING = "being deleted"  # ConfigRuleState DELETING or DELETING_RESULTS
    PROACTIVE_ONLY = "proactive only"  # EvaluationModes without DETECTIVE: never has detective results
    EXCLUDED = "excluded by the rule filters"  # CONFIG_REPORT_RULES / CONFIG_REPORT_EXCLUDE_RULES


class FindingStatus(StrEnum):
    """A finding's place in the week-over-week comparison (see `config_report.domain.changes`)."""

    NEW = "NEW"  # failing now, not failing in the previous run's same account and region
    PERSISTING = "PERSISTING"  # failing in both runs
    RESOLVED = "RESOLVED"  # failing in the previous run, no longer failing in an account-region read now


# Used as the region of a coverage row when an account failed before its regions were known.
ALL_REGIONS = "all regions"

GLOBAL_RESOURCE_TYPES = frozenset(
    {"AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::::Account"}
)
"""Resource types that exist once per account whatever region evaluates them. AWS Config records the
global IAM types in one region, yet "periodic rules that report compliance on the global IAM resource
type will run evaluations in all Regions where the periodic rule is added"; account-level rules
(`AWS::::Account`) do the same, and so do Security Hub's controls in every enabled region."""


class Resource(NamedTuple):
    """One resource, the unit of `Non-compliant resources`: the region is part of it only for regional
    resource types, so one IAM user failing the same rule in 17 regions is one resource."""

    account_id: str
    resource_type: str
    resource_id: str
    region: str  # "" for the global types


@dataclass(frozen=True, slots=True)
class Account:
    """An ACTIVE member account of the organization."""

    id: str
    name: str
    ou: str = "Root"
    ou_ids: tuple[str, ...] = ()
    email: str = ""
    owner: str = ""  # from the account's Organizations tags (the owner tag keys setting), if any


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a rule is, as DescribeConfigRules says: its source and description (for the catalogue)."""

    source_owner: str = ""  # AWS (a managed rule), CUSTOM_LAMBDA or CUSTOM_POLICY (Guard)
    source_identifier: str = ""  # the managed rule's identifier, or the Lambda function's ARN
    description: str = ""


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One Config rule's compliance in one account and region.

    `normalized_name` is the rule's name without a deploying service's generated suffix
    (`rules.normalize_rule_name`; the rule's own name when empty): rankings, filters and week-over-week
    comparisons key on it. `read_status` is `OK` when the rule was read in full; otherwise the rule
    alone could not be read (`read_detail` says why) and its region keeps the other rules.
    """

    account_id: str
    region: str
    rule_name: str
    compliance: Compliance
    noncompliant_resources: int = 0
    normalized_name: str = ""
    created_by: str = ""
    state: str = "ACTIVE"
    read_status: CoverageStatus = CoverageStatus.OK
    read_detail: str = ""
    last_successful_evaluation: datetime | None = None
    last_failed_evaluation: datetime | None = None
    last_error_code: str = ""
    evaluation_flag: EvaluationFlag | None = None
    info: RuleInfo | None = None  # the rule's catalogue facts, from the same DescribeConfigRules page
    # The conformance packs that deployed this copy (`config_report.aws.packs`), sorted; None when a pack
    # deployed it but the region's packs could not be read.
    conformance_packs: tuple[str, ...] | None = ()
    severity: Severity = Severity.UNRATED  # set by `domain.rating`

    def __post_init__(self) -> None:
        if not self.normalized_name:
            object.__setattr__(self, "normalized_name", self.rule_name)

    @property
    def unread(self) -> bool:
        """True when this rule alone could not be read (a partial gap in its region)."""
        return self.read_status is not CoverageStatus.OK


@dataclass(frozen=True, slots=True)
class SkippedRule:
    """A rule that exists in one account and region but is left out of the report, and why."""

    account_id: str
    region: str
    rule_name: str
    normalized_name: str
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class Acceptance:
    """Why a finding is an accepted risk: the reason, the ticket that records it, and until when."""

    reason: str
    ticket: str
    expires: date

    def label(self) -> str:
        """One line for a cell: the reason, then the ticket and the last day it applies."""
        return f"{self.reason} ({self.ticket}, until {self.expires:%Y-%m-%d})"

    def expired_label(self) -> str:
        """One line for a finding matched only by this acceptance, past its last day."""
        return f"expired {self.expires:%Y-%m-%d}: {self.reason} ({self.ticket})"


class OwnerSource(StrEnum):
    """Where a finding's owner came from."""

    RESOURCE_TAG = "resource tag"
    ACCOUNT_TAG = "account tag"
    NONE = "none"
    UNREAD = "not read"  # the resource's tags could not be read (the detail says why)


class ResourceRecord(StrEnum):
    """What AWS Config holds of a finding's resource, which decides whether its tags could be read."""

    RECORDED = "recorded"  # a current configuration item: its tags were read
    DELETED = "deleted"  # Config recorded the resource's deletion
    NOT_RECORDED = "not recorded"  # no item: a type the recorder leaves out, or an ID Config never saw
    UNCHECKED = "unchecked"  # no current item, and whether Config recorded a deletion could not be read


@dataclass(frozen=True, slots=True)
class Owner:
    """Who should act on a finding, and how the report knows."""

    name: str
    source: OwnerSource
    # None for a finding about the account itself, and when the tags could not be read (UNREAD).
    record: ResourceRecord | None = None
    deleted_at: datetime | None = None  # when Config recorded the deletion (DELETED)
    detail: str = ""  # why the tags could not be read (UNREAD)

    def source_label(self) -> str:
        """The `Owner Source` cell: the source, and why the resource's own tags could not name it."""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.source.value}{self._record_note()}{detail}"

    def _record_note(self) -> str:
        if self.record is ResourceRecord.DELETED:
            when = f" on {self.deleted_at:%Y-%m-%d}" if self.deleted_at is not None else ""
            return f" (resource deleted{when})"
        return _RECORD_NOTES.get(self.record, "") if self.record is not None else ""


_RECORD_NOTES = {
    ResourceRecord.NOT_RECORDED: " (not recorded: AWS Config holds no configuration item for it)",
    ResourceRecord.UNCHECKED: " (no configuration item; whether it was deleted could not be read)",
}


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
    normalized_name: str = ""  # the rule's normalized name (`RuleResult.normalized_name`)
    accepted: Acceptance | None = None  # set by the exceptions stage when a live exception matches
    # Set when only an exception past its expiry matches: the finding counts, and says what lapsed.
    lapsed: Acceptance | None = None
    owner: Owner | None = None  # set by the owners stage
    # Set by the comparison with the previous run: the date of the first run that reported this finding
    # (carried from snapshot to snapshot), and NEW or PERSISTING; None where nothing could be compared.
    first_seen: date | None = None
    status: FindingStatus | None = None
    severity: Severity = Severity.UNRATED  # its rule's, set by `domain.rating`

    @property
    def resource(self) -> Resource:
        """The resource this evaluation is about (one resource may fail several rules and regions)."""
        region = "" if self.resource_type in GLOBAL_RESOURCE_TYPES else self.region
        return Resource(self.account_id, self.resource_type, self.resource_id, region)

    def age_days(self, today: date) -> int | None:
        """Days from the first run that reported this finding to `today`; None when not known."""
        return (today - self.first_seen).days if self.first_seen is not None else None

    def __post_init__(self) -> None:
        if not self.normalized_name:
            object.__setattr__(self, "normalized_name", self.rule_name)


class ExceptionStatus(StrEnum):
    """What became of one accepted exception in this run."""

    APPLIED = "APPLIED"  # live, and accepts at least one finding
    UNUSED = "UNUSED"  # live, but matches no finding: fixed, renamed, or a pattern with a typo
    EXPIRED = "EXPIRED"  # past its expiry: accepts nothing any more


@dataclass(frozen=True, slots=True)
class ExceptionUse:
    """One entry of the exceptions file and what it did in this run."""

    source: str  # file and line, for the person who must edit it
    account: str
    region: str
    rule: str
    resource: str
    acceptance: Acceptance
    status: ExceptionStatus
    findings: int  # findings accepted (APPLIED) or that it would accept were it live (EXPIRED)

    def title(self) -> str:
        """How a person knows the exception: its ticket and reason (the file and line are for editing)."""
        return f"{self.acceptance.ticket}: {self.acceptance.reason}"

    def outcome(self) -> str:
        """What became of it, in words, for the lists of expired and unused exceptions."""
        if self.status is ExceptionStatus.EXPIRED:
            return f"expired {self.acceptance.expires:%Y-%m-%d}, matches {self.findings:,} finding(s) again"
        if self.status is ExceptionStatus.UNUSED:
            return "matches no finding"
        return f"accepts {self.findings:,} finding(s) until {self.acceptance.expires:%Y-%m-%d}"


@dataclass(frozen=True, slots=True)
class Coverage:
    """Whether one account × region was read, and why not when it was not."""

    account_id: str
    region: str
    status: CoverageStatus
    # What AWS said (its error message) or what the read found (a recorder stopped since when, rules
    # that could not be read): the Coverage sheet's `AWS Message`. What the status means and its fix
    # are `domain.coverage_words`, the sheet's `Detail`.
    detail: str = ""

    def noted(self, note: str, status: CoverageStatus | None = None) -> Coverage:
        """This row with `note` added to its detail: earlier notes are kept. A note that gives the row a
        new `status` leads the detail, since it says why the row has that status; others follow."""
        parts = (note, self.detail) if status is not None else (self.detail, note)
        return replace(self, status=status or self.status, detail=" | ".join(p for p in parts if p))


@dataclass(frozen=True, slots=True)
class AccountScan:
    """Everything read from one account, including what could not be read."""

    account: Account
    # Rules and findings are always `domain.shelved.Shelved` (a tuple or list given is wrapped): on the
    # run's spool for a large run, so the organization's never have to fit in memory at once.
    rules: Sequence[RuleResult] = ()
    findings: Sequence[Finding] = ()
    coverage: tuple[Coverage, ...] = ()
    skipped: tuple[SkippedRule, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", shelved_of(self.rules, shelf_of(self.rules)))
        object.__setattr__(self, "findings", shelved_of(self.findings, shelf_of(self.findings)))

    @property
    def unread(self) -> bool:
        """True when no region of the account could be read: its counts are unknown, not zero."""
        return any(c.status.is_gap for c in self.coverage) and not any(
            c.status is CoverageStatus.OK for c in self.coverage
        )

    @property
    def status(self) -> AccountStatus:
        """`OK` when everything was read; the gap status when every region failed the same way;
        else `PARTIAL` (an account whose regions were all read but where some rule alone could not be
        is `PARTIAL` too)."""
        gaps = {c.status for c in self.coverage if c.status.is_gap}
        if not gaps:
            return AccountStatus.PARTIAL if any(r.unread for r in self.rules) else AccountStatus.OK
        if len(gaps) == 1 and all(c.status.is_gap for c in self.coverage):
            return AccountStatus(next(iter(gaps)).value)
        return AccountStatus.PARTIAL


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
    # Since the previous run, where both runs read (new minus resolved resources); None without one.
    change: int | None = None
    severity: Severity | None = None  # a rule's (the worst rules are ranked by it first)
    critical_high: int | None = None  # an account's resources failing a CRITICAL or HIGH rule


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """One row of the Summary's `By owner` and `By OU` tables."""

    name: str
    noncompliant_resources: int  # distinct, not accepted by an exception, as in the headline
    accounts: int
    compliant_rules: int
    rules_judged: int  # compliant plus non-compliant rule results (the share's denominator)
    change: int | None = None  # of `noncompliant_resources` since the previous run, like for like

    @property
    def compliant_share(self) -> float | None:
        """Compliant rules ÷ rules judged compliant or not; None when no rule was judged."""
        return self.compliant_rules / self.rules_judged if self.rules_judged else None


# A region is used by the organization when most of the accounts that may use it record there.
_USED_SHARE = 0.5
UNUSED_REGIONS = "Not used by the organization (AWS Config in no account)"
"""The words every output puts before the regions where no account in scope records."""


@dataclass(frozen=True, slots=True)
class RegionUse:
    """How the organization uses AWS Config in one region, over the accounts read there.

    `recording` counts the accounts with a recorder in the region (recording, stopped or failing) of
    the `open_to` accounts the region is open to (not an opt-in region left disabled, not denied by an
    SCP). `broken` names, as "name (ID)", the accounts whose detective control is broken there: Config
    missing, stopped or failing where most accounts record; only stopped or failing where few do.
    """

    region: str
    recording: int
    open_to: int
    broken: tuple[str, ...] = ()

    @property
    def used(self) -> bool:
        """Most of the accounts the region is open to record there."""
        return self.recording > self.open_to * _USED_SHARE

    @property
    def unused(self) -> bool:
        """No account in scope records there: a region the organization does not use."""
        return self.recording == 0

    def note(self) -> str:
        """The region's count in words, short enough for a narrow column: out of how many accounts,
        and how many to act on. Every output uses these words."""
        if self.broken:
            what = "missing, stopped or failing" if self.used else "with a recorder stopped or failing"
            return f"of {self.open_to}; {len(self.broken)} {what}"
        if self.recording == self.open_to:
            return f"of {self.open_to}: every account records"
        return f"of {self.open_to}: few accounts use this region"

    def named(self) -> tuple[str, ...]:
        """The accounts to act on: the first ten, then how many more (the Coverage sheet has them all)."""
        return first_named(self.broken)

    def summary(self) -> str:
        """`note` and the accounts it names, on one line."""
        return f"{self.note()}: {', '.join(self.named())}" if self.broken else self.note()


# How many items a list under a Summary line or in the ticket names before "and N more".
_NAMED = 10


def first_named(labels: Sequence[str]) -> tuple[str, ...]:
    """The first ten of `labels`, then "and N more" when there are more."""
    if len(labels) <= _NAMED:
        return tuple(labels)
    return (*labels[:_NAMED], f"and {len(labels) - _NAMED} more")


@dataclass(frozen=True, slots=True)
class Figures:
    """Headline figures, computed once when the report is finished (`domain.figures.finished`) and read
    by the workbook, the snapshot, the manifest, the history, the terminal and Jira."""

    accounts: int
    accounts_fully_scanned: int
    regions_scanned: int
    regions_total: int
    regions_without_config: int
    coverage_gaps: int
    rules_compliant: int
    rules_noncompliant: int
    rules_other: int
    noncompliant_resources: int  # distinct resources (`Resource`) with a failing evaluation not accepted
    worst_rules: tuple[RankedItem, ...]  # by distinct resources, each rule by its normalized name
    worst_accounts: tuple[RankedItem, ...]
    failing_evaluations: int = 0  # resource × rule × region evaluations failing, not accepted
    critical_high_resources: int = 0  # of `noncompliant_resources`, those failing a CRITICAL or HIGH rule
    regions_not_recording: int = 0
    regions_recorder_failing: int = 0
    regions_not_enabled: int = 0
    regions_denied_by_scp: int = 0
    rules_unread: int = 0
    rules_evaluation_failed: int = 0
    rules_stale: int = 0
    rules_skipped: tuple[RankedItem, ...] = ()  # per `SkipReason` value: how many rules were left out
    accepted_resources: int = 0  # distinct resources all of whose failing evaluations are accepted
    exceptions_applied: int = 0
    exceptions_expired: int = 0
    exceptions_unused: int = 0
    by_owner: tuple[GroupFigures, ...] = ()  # the owners with most non-compliant resources
    by_ou: tuple[GroupFigures, ...] = ()
    # What each ranking leaves out, as one row ("other …"), so that every table shows the whole: None
    # when nothing is left out. Accounts, owners and OUs partition the resources, so with it their
    # tables sum to the headline; a resource failing two rules counts under each rule.
    worst_rules_other: RankedItem | None = None
    worst_accounts_other: RankedItem | None = None
    by_owner_other: GroupFigures | None = None
    by_ou_other: GroupFigures | None = None
    account_resources: Mapping[str, int] = field(default_factory=dict)  # account ID → non-compliant resources
    regions: tuple[RegionUse, ...] = ()  # how the organization uses Config, region by region

    @property
    def complete(self) -> bool:
        """True when no account, region or rule is missing from the report."""
        return self.coverage_gaps == 0 and self.rules_unread == 0

    @property
    def regions_unused(self) -> tuple[str, ...]:
        """The regions where no account in scope records: not used by the organization."""
        return tuple(r.region for r in self.regions if r.unused)

    @property
    def broken_controls(self) -> int:
        """Account-regions whose detective control is broken (`RegionUse.broken`), all regions together."""
        return sum(len(r.broken) for r in self.regions)


@dataclass(frozen=True, slots=True)
class Baseline:
    """The previous run a report is compared with, or why there is none.

    `source` is where it was looked for or found (an `s3://` URI or a path; empty when nothing was
    found); `problem` says why no comparison was made (empty when `figures` is that run's figures).
    """

    source: str = ""
    run_id: str = ""
    started_at: datetime | None = None
    figures: Figures | None = None
    problem: str = ""

    @property
    def usable(self) -> bool:
        """True when the report was compared with this baseline."""
        return self.figures is not None and not self.problem


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since the baseline, counted only where both runs read the account, region and rule.

    `new`, `resolved` and `persisting` are failing evaluations (findings); `new_resources` and
    `resolved_resources` the distinct resources that became, or stopped being, non-compliant (accepted
    findings aside, as in the headline). Both headline changes are therefore like for like.
    """

    baseline: Baseline
    new: Sequence[Finding] = ()
    resolved: Sequence[Finding] = ()
    persisting: int = 0
    # Findings of this run in account-regions that were not read in both runs: neither new nor persisting.
    not_comparable: int = 0
    # The baseline's findings in places this run could not read: not compared, never counted resolved.
    not_read_now: Sequence[Finding] = ()
    new_resources: int = 0
    resolved_resources: int = 0
    # The same change per ranking group, keyed (kind, group) as `domain.figures.groups_of` names them.
    group_changes: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # Account ID → its compliant share of rules now minus before, over the rules of places both read.
    share_changes: Mapping[str, float] = field(default_factory=dict)
    joined: tuple[Account, ...] = ()
    left: tuple[Account, ...] = ()

    @property
    def resources_change(self) -> int:
        """The change of `Non-compliant resources` where both runs read: new minus resolved resources."""
        return self.new_resources - self.resolved_resources

    @property
    def evaluations_change(self) -> int:
        """The change of `Failing evaluations` where both runs read: new minus resolved evaluations."""
        return len(self.new) - len(self.resolved)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One run's line in the history object: the headline figures the trend chart plots."""

    run_id: str
    started_at: datetime
    accounts: int
    noncompliant_resources: int | None
    regions_scanned: int
    regions_total: int
    coverage_gaps: int
    new_findings: int | None = None
    resolved_findings: int | None = None
    # Lines written before resources were counted once hold evaluations: then this is that number and
    # `noncompliant_resources` is None until the line is rebuilt from its run's snapshot.
    failing_evaluations: int | None = None
    critical_high_resources: int | None = None  # None on lines written before severities were rated

    @property
    def coverage(self) -> float:
        """The share of account-region pairs read, 0 to 1 (1 when there was nothing to read)."""
        return self.regions_scanned / self.regions_total if self.regions_total else 1.0


@dataclass(frozen=True, slots=True)
class Report:
    """The whole run's result, in account order.

    `changes` and `trend` are added by the comparison with earlier runs (None and empty until then),
    the figures when it is finished;
    `carried` holds earlier findings in account-regions this run could not read, kept only so that
    their first-seen dates survive until the place is read again.
    """

    run: RunInfo
    scans: tuple[AccountScan, ...]
    exceptions: tuple[ExceptionUse, ...] = ()  # every entry of the exceptions file, when one is set
    exception_request: str = ""  # how to request an exception (CONFIG_REPORT_EXCEPTION_REQUEST)
    changes: Changes | None = None
    trend: tuple[HistoryEntry, ...] = ()
    carried: Sequence[Finding] = ()
    finished_figures: Figures | None = None  # set once, by `domain.figures.finished`

    @property
    def figures(self) -> Figures:
        """The headline figures, computed once when the report was finished."""
        if self.finished_figures is None:
            raise ValueError("the report is not finished: domain.figures.finished computes its figures")
        return self.finished_figures

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

    def skipped_rules(self) -> Iterator[SkippedRule]:
        """Every rule left out of the report, account by account."""
        for scan in self.scans:
            yield from scan.skipped
