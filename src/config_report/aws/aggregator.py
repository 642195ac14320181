"""Reading compliance from one AWS Config aggregator, instead of each account's spoke role.

The same `AccountScan`s as the spokes (`aws.scan`), so everything downstream is unchanged; what it
costs and what it cannot know:

1. `DescribeConfigurationAggregators` (1 call): the aggregator exists, and which regions it aggregates.
2. `DescribeConfigurationAggregatorSourcesStatus` (one call per 100 sources): each account × region's
   last update. `FAILED` is a gap with AWS's error; `SUCCEEDED` but older than
   `CONFIG_REPORT_AGGREGATOR_MAX_AGE_HOURS` is a gap (stale); an ACTIVE account or a region the
   aggregator does not cover is a gap. `OUTDATED` is AWS's word for a source whose Config delivers
   nothing new (no recorder, a stopped or failing one): like the spokes' `CONFIG_NOT_ENABLED` and
   `CONFIG_NOT_RECORDING`, a state of the account and not a gap; its stale results are not reported.
   An organization aggregator's sources are taken from their own `ACCOUNT` entries, or else from the
   region's `ORGANIZATION` entry. Each place's Detail says how fresh its data is.
3. `DescribeAggregateComplianceByConfigRules` (one call per 1,000 account × region × rule): each rule's
   compliance. AWS lists only rules with results, so a rule without any (INSUFFICIENT_DATA) is absent.
4. Non-compliant resources: `GetAggregateComplianceDetailsByConfigRule` per non-compliant rule (every
   page of 100), or, with `CONFIG_REPORT_AGGREGATOR_FINDINGS=query`, advanced queries over
   `AWS::Config::ResourceCompliance` (one query a region, the regions at once, one call per 100
   non-compliant resources of the organization):
   a rule whose count there differs from its compliance count (a source that does not record that
   type, a count past 100) is read with the detail call instead, so nothing is lost; such findings
   carry no annotation, and their time is when the resource's compliance last changed.
5. Owners: the failing resources' tags by advanced query, 100 resource IDs a call across every source,
   as many queries at once as `CONFIG_REPORT_CONCURRENCY`.

What only the spokes can read: recorder health (stopped, failing: the aggregator says `OUTDATED` for
both), rule state and evaluation health (`FAILED`, `STALE` flags), descriptions and sources for the
catalogue, conformance pack membership. The rule's creator is inferred from the generated names AWS
services give their rules. Failures of the aggregator itself (its role, its name, a denied call)
make every account × region a gap with the reason; a failure reading one rule costs that rule only.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from config_report.aws.errors import AwsError, describe_error, failure_status, is_access_denied, translated
from config_report.aws.scan import AccountCallback, ProgressCallback, ScanProgress
from config_report.aws.session import Hub, assume_role_session
from config_report.aws.tags import resource_queries
from config_report.domain.model import (
    ALL_REGIONS,
    Account,
    AccountScan,
    Compliance,
    Coverage,
    CoverageStatus,
    Finding,
    Owner,
    OwnerSource,
    RuleResult,
    SkippedRule,
    SkipReason,
)
from config_report.domain.owners import (
    ACCOUNT_RESOURCE,
    ResourceKey,
    ResourceRecords,
    Tags,
    with_global_owners,
    with_resource_owners,
)
from config_report.domain.rules import (
    CONFORMANCE_PACK,
    ORGANIZATIONS,
    SECURITY_HUB,
    RuleFilter,
    normalize_rule_name,
)
from config_report.errors import ConfigReportError
from config_report.logs import get_logger
from config_report.settings import AggregatorConfig, ScanConfig

Place = tuple[str, str]  # account ID, region

# The largest page of each call (AWS Config API reference): the fewest calls.
_SOURCES_PAGE = 100
_RULES_PAGE = 1000
_DETAILS_PAGE = 100
_QUERY_PAGE = 100
_CONTRIBUTOR_CAP = 100
TAGS_QUERY = "SELECT resourceId, resourceType, accountId, awsRegion, tags WHERE resourceId IN ({ids})"
COMPLIANCE_QUERY = (
    "SELECT accountId, awsRegion, configuration.targetResourceId, configuration.targetResourceType, "
    "configuration.configRuleList, configurationItemCaptureTime "
    "WHERE resourceType = 'AWS::Config::ResourceCompliance' "
    "AND configuration.complianceType = 'NON_COMPLIANT'"
)
_FRESH = "SUCCEEDED"
_FAILED = "FAILED"
_OUTDATED = "OUTDATED"


@dataclass(frozen=True, slots=True)
class AggregatorPlan:
    """What reading the aggregator needs: the hub, the scan's settings and the aggregator's."""

    hub: Hub
    scan: ScanConfig
    aggregator: AggregatorConfig
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # judges the sources' age

    @property
    def region(self) -> str:
        """The region the aggregator lives in."""
        return self.aggregator.region or self.hub.region

    @property
    def rule_filter(self) -> RuleFilter:
        """Which rules the report includes."""
        return RuleFilter(include=self.scan.rules, exclude=self.scan.exclude_rules)


@dataclass(frozen=True, slots=True)
class SourceState:
    """One source's last update, as `DescribeConfigurationAggregatorSourcesStatus` says."""

    status: str
    updated_at: datetime | None
    error: str = ""  # AWS's code and message, after a failure
    through_organization: bool = False  # known from the region's ORGANIZATION entry only


@dataclass(frozen=True, slots=True)
class _Aggregator:
    """What `DescribeConfigurationAggregators` says of the aggregator."""

    arn: str
    regions: frozenset[str] | None  # None: every region (AllAwsRegions)


@dataclass(frozen=True, slots=True)
class _Listed:
    """One rule of one place, as the aggregated compliance lists it."""

    place: Place
    name: str
    compliance: Compliance
    contributors: int  # ComplianceContributorCount (capped at 100)
    capped: bool


@dataclass
class _Read:
    """The reader's results so far (owned by the calling thread; workers return values)."""

    coverage: dict[Place, Coverage] = field(default_factory=dict)
    rules: dict[Place, list[RuleResult]] = field(default_factory=lambda: defaultdict(list))
    findings: dict[Place, list[Finding]] = field(default_factory=lambda: defaultdict(list))
    skipped: dict[Place, list[SkippedRule]] = field(default_factory=lambda: defaultdict(list))


def read_aggregator(
    accounts: Sequence[Account],
    plan: AggregatorPlan,
    *,
    on_account_done: AccountCallback | None = None,
    on_unit_done: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> tuple[AccountScan, ...]:
    """Every account × region of `accounts` read through the aggregator; results in account order.

    Once `stop` is set no more rule is read: places with rules still unread are `INTERRUPTED`.
    """
    stop = stop or threading.Event()
    try:
        client = aggregator_client(plan)
        aggregator = describe_aggregator(client, plan.aggregator.name)
        sources = source_states(client, plan.aggregator.name)
        regions = plan.scan.regions or _aggregated_regions(aggregator, sources)
        read = _Read()
        for account in accounts:
            for region in regions:
                read.coverage[(account.id, region)] = _coverage(
                    (account.id, region), aggregator, sources.of((account.id, region)), plan
                )
        listed = list(_listed_rules(client, plan.aggregator.name, read.coverage))
    except (*AwsError, ConfigReportError) as exc:
        return _all_failed(accounts, plan, exc, on_account_done, on_unit_done)
    _log_freshness(plan, aggregator, sources)
    _judge_rules(listed, read, plan)
    _read_findings(client, plan, listed, read, stop)
    _read_owners(client, plan, read)
    return _assembled(accounts, regions, read, on_account_done, on_unit_done)


def aggregator_client(plan: AggregatorPlan) -> Any:
    """Config in the aggregator's account and region: as its role, or as the hub."""
    hub, config = plan.hub, plan.aggregator
    if not config.role_arn:
        return hub.session.client("config", region_name=plan.region, config=hub.config)
    try:
        session = assume_role_session(
            hub.sts,
            config.role_arn,
            session_name=plan.scan.session_name,
            region=plan.region,
            fallback_sts=hub.fallback_sts,  # its account may have deactivated STS in the hub's region
        )
    except AwsError as exc:
        raise translated(
            exc,
            what="assuming CONFIG_REPORT_AGGREGATOR_ROLE_ARN",
            otherwise=_AggregatorDenied(
                f"cannot assume CONFIG_REPORT_AGGREGATOR_ROLE_ARN {config.role_arn} ({describe_error(exc)}); "
                f"check that role's trust policy allows {hub.identity.arn}",
                denied=is_access_denied(exc),
            ),
        ) from exc
    return session.client("config", region_name=plan.region, config=hub.config)


class _AggregatorDenied(ConfigReportError):
    """The aggregator's role could not be assumed (`denied`: refused, not a fault)."""

    def __init__(self, message: str, *, denied: bool) -> None:
        super().__init__(message)
        self.denied = denied


def describe_aggregator(client: Any, name: str) -> _Aggregator:
    """The aggregator's ARN and regions; raises `AwsError` (e.g. NoSuchConfigurationAggregatorException)."""
    (found,) = client.describe_configuration_aggregators(ConfigurationAggregatorNames=[name])[
        "ConfigurationAggregators"
    ]
    accounts: list[Mapping[str, Any]] = found.get("AccountAggregationSources") or [{}]
    source = found.get("OrganizationAggregationSource") or accounts[0]
    regions = None if source.get("AllAwsRegions") else frozenset(source.get("AwsRegions") or ())
    return _Aggregator(arn=str(found.get("ConfigurationAggregatorArn", "")), regions=regions)


@dataclass(frozen=True, slots=True)
class SourceStates:
    """The sources' last updates: each account's own, and each region's organization entry."""

    accounts: Mapping[Place, SourceState]
    organization: Mapping[str, SourceState]

    def of(self, place: Place) -> SourceState | None:
        """The place's own state, else its region's organization state (AWS documents neither shape)."""
        return self.accounts.get(place) or self.organization.get(place[1])

    def regions(self) -> set[str]:
        """Every region some source status names."""
        return {region for _, region in self.accounts} | set(self.organization)


def source_states(client: Any, name: str) -> SourceStates:
    """Each account × region's last update, and each region's organization entry."""
    accounts: dict[Place, SourceState] = {}
    organization: dict[str, SourceState] = {}
    pages = client.get_paginator("describe_configuration_aggregator_sources_status").paginate(
        ConfigurationAggregatorName=name, PaginationConfig={"PageSize": _SOURCES_PAGE}
    )
    for page in pages:
        for entry in page.get("AggregatedSourceStatusList", []):
            state = _state(entry)
            region = str(entry.get("AwsRegion", ""))
            if entry.get("SourceType") == "ORGANIZATION":
                organization[region] = replace(state, through_organization=True)
            else:
                accounts[(str(entry.get("SourceId", "")), region)] = state
    return SourceStates(accounts, organization)


def _state(entry: Mapping[str, Any]) -> SourceState:
    code, message = entry.get("LastErrorCode") or "", entry.get("LastErrorMessage") or ""
    return SourceState(
        status=str(entry.get("LastUpdateStatus") or ""),
        updated_at=entry.get("LastUpdateTime"),
        error=f"{code}: {message}".strip(": ") if code or message else "",
    )


def _log_freshness(plan: AggregatorPlan, aggregator: _Aggregator, sources: SourceStates) -> None:
    """One line saying what the aggregator is and how fresh its sources are (each place says its own)."""
    states = [*sources.accounts.values(), *sources.organization.values()]
    updated = [s.updated_at for s in states if s.status == _FRESH and s.updated_at is not None]
    get_logger().info(
        "aggregator.read",
        aggregator=plan.aggregator.name,
        arn=aggregator.arn,
        region=plan.region,
        sources=dict(Counter(s.status for s in sources.accounts.values())),
        oldest_update=_when(min(updated)) if updated else None,
        newest_update=_when(max(updated)) if updated else None,
    )


def _aggregated_regions(aggregator: _Aggregator, sources: SourceStates) -> tuple[str, ...]:
    return tuple(sorted(aggregator.regions if aggregator.regions is not None else sources.regions()))


def _coverage(
    place: Place, aggregator: _Aggregator, state: SourceState | None, plan: AggregatorPlan
) -> Coverage:
    """What the aggregator's own health says of one place; OK ones are read."""
    status, detail = _health(place[1], aggregator, state, plan)
    return Coverage(*place, status, f"aggregator {plan.aggregator.name}: {detail}")


def _health(
    region: str, aggregator: _Aggregator, state: SourceState | None, plan: AggregatorPlan
) -> tuple[CoverageStatus, str]:
    if aggregator.regions is not None and region not in aggregator.regions:
        return CoverageStatus.ERROR, (
            f"{region} is not aggregated: add the region to the aggregator, or leave it out of "
            "CONFIG_REPORT_REGIONS"
        )
    if state is None:
        return CoverageStatus.ERROR, (
            f"not a source (no source status for this account in {region}): add the account to the "
            "aggregator, or aggregate the organization"
        )
    when = _when(state.updated_at)
    if state.status == _FAILED:
        return CoverageStatus.ERROR, f"the source's last update FAILED ({when}): {state.error or 'no error'}"
    if state.status == _OUTDATED:
        return CoverageStatus.CONFIG_NOT_ENABLED, (
            f"source OUTDATED (last update {when}): Config delivers nothing new from this account and "
            "region (no recorder, or a stopped or failing one: the spokes can tell which)"
        )
    age = plan.clock() - state.updated_at if state.updated_at is not None else None
    limit = plan.aggregator.max_source_age
    if state.status != _FRESH or age is None or age > limit:
        return CoverageStatus.ERROR, (
            f"source {state.status or 'without a status'}, last updated {when}: older than "
            f"CONFIG_REPORT_AGGREGATOR_MAX_AGE_HOURS ({limit.total_seconds() / 3600:g} h), its data is stale"
        )
    through = ", through its organization's source" if state.through_organization else ""
    return CoverageStatus.OK, f"read through the aggregator{through}, data as of {when}"


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if moment is not None else "never"


def _listed_rules(client: Any, name: str, coverage: Mapping[Place, Coverage]) -> Iterator[_Listed]:
    """Every rule with results in a place of the report, whatever its place's status (sorted later)."""
    pages = client.get_paginator("describe_aggregate_compliance_by_config_rules").paginate(
        ConfigurationAggregatorName=name, PaginationConfig={"PageSize": _RULES_PAGE}
    )
    for page in pages:
        for item in page.get("AggregateComplianceByConfigRules", []):
            place = (str(item.get("AccountId", "")), str(item.get("AwsRegion", "")))
            if place not in coverage:
                continue
            summary = item.get("Compliance") or {}
            count = summary.get("ComplianceContributorCount") or {}
            yield _Listed(
                place=place,
                name=str(item["ConfigRuleName"]),
                compliance=Compliance(summary.get("ComplianceType") or Compliance.INSUFFICIENT_DATA.value),
                contributors=int(count.get("CappedCount") or 0),
                capped=bool(count.get("CapExceeded")),
            )


def _judge_rules(listed: list[_Listed], read: _Read, plan: AggregatorPlan) -> None:
    """Rules of read places become rule results (or skipped ones); an OUTDATED place holding some is stale."""
    held: dict[Place, int] = defaultdict(int)
    for rule in listed:
        coverage = read.coverage[rule.place]
        if coverage.status is CoverageStatus.CONFIG_NOT_ENABLED:
            held[rule.place] += 1
        if coverage.status is not CoverageStatus.OK:
            continue
        normalized = normalize_rule_name(rule.name, _created_by(rule.name) or None)
        if not plan.rule_filter.includes(normalized):
            read.skipped[rule.place].append(
                SkippedRule(*rule.place, rule.name, normalized, SkipReason.EXCLUDED)
            )
            continue
        read.rules[rule.place].append(_rule_result(rule, normalized))
    for place, count in held.items():
        # OUTDATED with results held: a recorder that stopped or fails; its results are stale.
        read.coverage[place] = replace(
            read.coverage[place], status=CoverageStatus.CONFIG_NOT_RECORDING
        ).noted(f"the aggregator still holds {count} rule result(s) from before: stale, not reported")


def _rule_result(rule: _Listed, normalized: str) -> RuleResult:
    created_by = _created_by(rule.name)
    return RuleResult(
        *rule.place,
        rule.name,
        rule.compliance,
        normalized_name=normalized,
        created_by=created_by,
        # Which packs deployed a rule is known to the spokes only: "not read" for a pack's rule.
        conformance_packs=None if created_by == CONFORMANCE_PACK else (),
    )


def _created_by(name: str) -> str:
    """The service that created a rule, from the name it generated (the aggregator lists names only)."""
    if name.startswith("OrgConfigRule-"):
        return ORGANIZATIONS
    if "-conformance-pack-" in name:
        return CONFORMANCE_PACK
    if name.startswith("securityhub-"):
        return SECURITY_HUB
    return ""


# --- non-compliant resources ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RuleRead:
    """One non-compliant rule's findings, or why they could not be read."""

    place: Place
    rule_name: str
    findings: tuple[Finding, ...] = ()
    error: Exception | None = None


def _read_findings(
    client: Any, plan: AggregatorPlan, listed: list[_Listed], read: _Read, stop: threading.Event
) -> None:
    failing = [
        r
        for r in listed
        if r.compliance is Compliance.NON_COMPLIANT
        and read.coverage[r.place].status is CoverageStatus.OK
        and any(x.rule_name == r.name for x in read.rules[r.place])
    ]
    queried: dict[tuple[Place, str], list[Finding]] = {}
    if plan.aggregator.findings == "query" and failing:
        try:
            regions = sorted({region for _, region in read.coverage})
            queried = _queried_findings(client, plan, regions)
        except AwsError as exc:
            # The fast path is only faster: every rule is read with the detail call instead.
            get_logger().warning("aggregator.query_unread", reason=describe_error(exc))
    todo: list[_Listed] = []
    for rule in failing:
        found = queried.get((rule.place, rule.name), [])
        if not rule.capped and len(found) == rule.contributors:
            _record(read, _RuleRead(rule.place, rule.name, tuple(_with_rule_names(found, rule))))
        else:
            todo.append(rule)
    workers = max(1, min(plan.scan.concurrency, len(todo)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aggregator") as pool:
        for outcome in pool.map(lambda rule: _details(client, plan.aggregator.name, rule, stop), todo):
            _record(read, outcome)


def _with_rule_names(found: Iterable[Finding], rule: _Listed) -> Iterator[Finding]:
    normalized = normalize_rule_name(rule.name, _created_by(rule.name) or None)
    for finding in found:
        yield replace(finding, normalized_name=normalized)


def _details(client: Any, name: str, rule: _Listed, stop: threading.Event) -> _RuleRead:
    if stop.is_set():
        return _RuleRead(rule.place, rule.name, error=_Interrupted())
    account_id, region = rule.place
    normalized = normalize_rule_name(rule.name, _created_by(rule.name) or None)
    pages = client.get_paginator("get_aggregate_compliance_details_by_config_rule").paginate(
        ConfigurationAggregatorName=name,
        ConfigRuleName=rule.name,
        AccountId=account_id,
        AwsRegion=region,
        ComplianceType=Compliance.NON_COMPLIANT.value,
        PaginationConfig={"PageSize": _DETAILS_PAGE},
    )
    try:
        findings = [
            _finding(result, account_id, region, rule.name, normalized)
            for page in pages
            for result in page.get("AggregateEvaluationResults", [])
        ]
    except AwsError as exc:
        return _RuleRead(rule.place, rule.name, error=exc)
    return _RuleRead(rule.place, rule.name, tuple(findings))


class _Interrupted(Exception):
    """The run was stopped before this rule was read."""


def _finding(result: Mapping[str, Any], account_id: str, region: str, rule: str, normalized: str) -> Finding:
    qualifier = (result.get("EvaluationResultIdentifier") or {}).get("EvaluationResultQualifier") or {}
    # Types and annotations repeat across thousands of findings: one copy of each is kept.
    return Finding(
        account_id=account_id,
        region=region,
        rule_name=rule,
        resource_type=sys.intern(str(qualifier.get("ResourceType", ""))),
        resource_id=str(qualifier.get("ResourceId", "")),
        annotation=sys.intern(str(result.get("Annotation", ""))),
        last_evaluated=result.get("ResultRecordedTime"),
        normalized_name=normalized,
    )


def _record(read: _Read, outcome: _RuleRead) -> None:
    rules = read.rules[outcome.place]
    index = next(i for i, r in enumerate(rules) if r.rule_name == outcome.rule_name)
    if isinstance(outcome.error, _Interrupted):
        coverage = read.coverage[outcome.place]
        read.coverage[outcome.place] = replace(
            coverage,
            status=CoverageStatus.INTERRUPTED,
            detail="the run was stopped (SIGTERM) before this was read",
        )
        return
    if outcome.error is not None:
        rules[index] = replace(
            rules[index], read_status=failure_status(outcome.error), read_detail=describe_error(outcome.error)
        )
        return
    rules[index] = replace(rules[index], noncompliant_resources=len(outcome.findings))
    read.findings[outcome.place].extend(outcome.findings)


def _queried_findings(
    client: Any, plan: AggregatorPlan, regions: Sequence[str]
) -> dict[tuple[Place, str], list[Finding]]:
    """Every non-compliant resource of the organization in `regions`, by place and rule, from its
    compliance items: one query a region, the regions at once (a query's pages come one after another)."""
    found: dict[tuple[Place, str], list[Finding]] = defaultdict(list)
    queries = [f"{COMPLIANCE_QUERY} AND awsRegion = '{region}'" for region in regions]
    for item in _selected_all(client, plan, queries):
        place = (str(item.get("accountId", "")), str(item.get("awsRegion", "")))
        configuration = item.get("configuration") or {}
        listed = configuration.get("configRuleList") or []
        # AWS gives a one-element list as the element itself.
        for rule in [listed] if isinstance(listed, Mapping) else listed:
            if rule.get("complianceType") != Compliance.NON_COMPLIANT.value:
                continue
            rule_name = str(rule.get("configRuleName", ""))
            found[(place, rule_name)].append(
                Finding(
                    account_id=place[0],
                    region=place[1],
                    rule_name=rule_name,
                    resource_type=sys.intern(str(configuration.get("targetResourceType", ""))),
                    resource_id=str(configuration.get("targetResourceId", "")),
                    last_evaluated=_captured(item.get("configurationItemCaptureTime")),
                )
            )
    return found


def _captured(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


# --- owners ---------------------------------------------------------------------------------------------


def _read_owners(client: Any, plan: AggregatorPlan, read: _Read) -> None:
    """Each finding's resource owner, from tags read across every source at once."""
    findings = [f for place in read.findings.values() for f in place]
    ids = {f.resource_id for f in findings if f.resource_type != ACCOUNT_RESOURCE and f.resource_id}
    try:
        tags = _resource_tags(client, plan, ids)
    except AwsError as exc:
        unread = Owner("", OwnerSource.UNREAD, detail=describe_error(exc))
        detail = f"{describe_error(exc)} (owners not read; rules and findings are reported)"
        for place, place_findings in read.findings.items():
            if place_findings:
                read.findings[place] = [replace(f, owner=unread) for f in place_findings]
                read.coverage[place] = read.coverage[place].noted(detail, failure_status(exc))
        return
    keys = plan.scan.owner_tag_keys
    for place, place_findings in read.findings.items():
        read.findings[place] = list(
            with_resource_owners(place_findings, _records(place_findings, tags.get(place, {})), keys)
        )


def _records(findings: Sequence[Finding], tags: Mapping[ResourceKey, Tags]) -> ResourceRecords:
    """The tags found in one place; a resource without an item is unchecked: only its own account can
    say whether Config recorded its deletion (the aggregator lists no deleted resources)."""
    missing = {
        (f.resource_type, f.resource_id)
        for f in findings
        if f.resource_type != ACCOUNT_RESOURCE and (f.resource_type, f.resource_id) not in tags
    }
    return ResourceRecords(tags, unchecked=frozenset(missing))


def _resource_tags(client: Any, plan: AggregatorPlan, ids: set[str]) -> dict[Place, dict[ResourceKey, Tags]]:
    """The current tags of the resources `ids` names, in every source that holds one, by place."""
    found: dict[Place, dict[ResourceKey, Tags]] = defaultdict(dict)
    for item in _selected_all(client, plan, list(resource_queries(ids, select=TAGS_QUERY))):
        tags = {t["key"]: t.get("value", "") for t in item.get("tags", [])}
        found[(item["accountId"], item["awsRegion"])][(item["resourceType"], item["resourceId"])] = tags
    return found


def _selected_all(client: Any, plan: AggregatorPlan, expressions: Sequence[str]) -> list[dict[str, Any]]:
    """Every result of these advanced queries over the aggregator, the queries run at once (as many as
    the scan's concurrency), each one's pages one after another."""
    workers = max(1, min(plan.scan.concurrency, len(expressions)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aggregator-query") as pool:
        answers = pool.map(
            lambda expression: _selected(client, plan.aggregator.name, expression), expressions
        )
        return [item for answer in answers for item in answer]


def _selected(client: Any, name: str, expression: str) -> list[dict[str, Any]]:
    """Every result of one advanced query over the aggregator, parsed, page after page of 100."""
    pages = client.get_paginator("select_aggregate_resource_config").paginate(
        ConfigurationAggregatorName=name, Expression=expression, PaginationConfig={"PageSize": _QUERY_PAGE}
    )
    return [json.loads(line) for page in pages for line in page.get("Results", [])]


# --- the result -----------------------------------------------------------------------------------------


def _assembled(
    accounts: Sequence[Account],
    regions: Sequence[str],
    read: _Read,
    on_account_done: AccountCallback | None,
    on_unit_done: ProgressCallback | None,
) -> tuple[AccountScan, ...]:
    scans = []
    for number, account in enumerate(accounts, 1):
        places = [(account.id, region) for region in regions]
        interrupted = {p for p in places if read.coverage[p].status is CoverageStatus.INTERRUPTED}
        scan = AccountScan(
            account=account,
            rules=tuple(r for p in places if p not in interrupted for r in read.rules.get(p, ())),
            # A global resource's owner is read in the one region that records it: shared with the rest.
            findings=with_global_owners(
                [f for p in places if p not in interrupted for f in read.findings.get(p, ())]
            ),
            coverage=tuple(_with_unread(read.coverage[p], read.rules.get(p, ())) for p in places),
            skipped=tuple(s for p in places for s in read.skipped.get(p, ())),
        )
        _progress(on_unit_done, number, len(accounts), len(regions))
        scans.append(on_account_done(scan, number, len(accounts)) if on_account_done is not None else scan)
    return tuple(scans)


def _progress(on_unit_done: ProgressCallback | None, done: int, accounts: int, regions: int) -> None:
    # The aggregator's regions are known before any account is assembled: the total is exact.
    if on_unit_done is not None:
        on_unit_done(
            ScanProgress(
                accounts=accounts,
                accounts_read=done,
                units_done=done * regions,
                units_expected=accounts * regions,
                units_exact=True,
            )
        )


def _with_unread(coverage: Coverage, rules: Iterable[RuleResult]) -> Coverage:
    unread = [r for r in rules if r.unread]
    if not unread or coverage.status is not CoverageStatus.OK:
        return coverage
    listed = "; ".join(f"{r.rule_name} ({r.read_status.value}: {r.read_detail})" for r in unread)
    return coverage.noted(f"{len(unread)} rule(s) could not be read, the others were: {listed}")


def _all_failed(
    accounts: Sequence[Account],
    plan: AggregatorPlan,
    exc: BaseException,
    on_account_done: AccountCallback | None,
    on_unit_done: ProgressCallback | None,
) -> tuple[AccountScan, ...]:
    """The aggregator itself could not be read: every place is a gap with the reason and the fix."""
    status = _failure_status(exc)
    detail = str(exc) if isinstance(exc, ConfigReportError) else _explained(exc, plan)
    regions = plan.scan.regions or (ALL_REGIONS,)
    scans = []
    for number, account in enumerate(accounts, 1):
        scan = AccountScan(account, coverage=tuple(Coverage(account.id, r, status, detail) for r in regions))
        _progress(on_unit_done, number, len(accounts), len(regions))
        scans.append(on_account_done(scan, number, len(accounts)) if on_account_done is not None else scan)
    return tuple(scans)


def _failure_status(exc: BaseException) -> CoverageStatus:
    if isinstance(exc, _AggregatorDenied):
        return CoverageStatus.ACCESS_DENIED if exc.denied else CoverageStatus.ERROR
    return failure_status(exc)


def _explained(exc: BaseException, plan: AggregatorPlan) -> str:
    where = f"aggregator {plan.aggregator.name} in {plan.region}"
    fix = (
        "check CONFIG_REPORT_AGGREGATOR_NAME and CONFIG_REPORT_AGGREGATOR_REGION (an aggregator lives in one "
        "region of its account)"
        if "NoSuchConfigurationAggregator" in describe_error(exc)
        else "grant the aggregator role the reads of deploy/terraform's aggregator-read-role"
        if is_access_denied(exc)
        else "retry later; AWS Config kept failing through CONFIG_REPORT_MAX_ATTEMPTS attempts"
    )
    return f"{where}: {describe_error(exc)}; {fix}"
