"""Reading AWS Config in one account × region: recorder, rules, compliance, evaluation health, findings.

What is read, in order, and how many calls it costs (n = rules, k = non-compliant rules):

1. The recorders (`aws.recorders`: 1 call, 2 or more where the account has no recorder of its own): no
   recorder is `CONFIG_NOT_ENABLED`; a stopped one is `CONFIG_NOT_RECORDING` with the time it stopped,
   a failing one `CONFIG_RECORDER_FAILING` with AWS's error (their results are stale: AWS keeps them).
   A region where only a service-linked recorder records is read.
2. `DescribeConfigRules` (n/25 calls): rules being deleted (`DELETING`, `DELETING_RESULTS`), proactive-only
   rules (`EvaluationModes` without `DETECTIVE`, which never have detective results) and rules the rule
   filters exclude are left out and counted; `EVALUATING` and states AWS may add are reported as they come.
3. `DescribeComplianceByConfigRule` (n/25 calls) and `DescribeConfigRuleEvaluationStatus` (n/50 calls):
   a rule whose last failure is newer than its last success is `FAILED`; a periodic rule (one AWS runs
   on a schedule: `domain.managed_rules`) whose last success is older than its own frequency plus
   `stale_margin` is `STALE`. A rule AWS runs only on configuration changes is never stale: a stable
   account's rule is rightly evaluated weeks ago.
4. `GetComplianceDetailsByConfigRule` (every page, per non-compliant rule).

A failure before the rules are known costs the region (its `Coverage` says why). A failure reading one
rule's details costs that rule only: it is kept with its `read_status` and reason, the region stays `OK`
and lists it in `Detail`, and the run counts it as a partial gap (exit code 3: data is missing). A
failure reading the evaluation status keeps the rules and findings but not the flags: the region gets
the failure's status (a gap) with the reason in `Detail`. Values this version does not know (a
compliance type, a rule state) are reported as they came, with one warning per value per run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from config_report.aws.errors import AwsError, describe_error, failure_status, region_status
from config_report.aws.recorders import recorder_state
from config_report.domain.managed_rules import DEFAULT_FREQUENCY, FREQUENCIES, PERIODIC_MANAGED_RULES
from config_report.domain.model import (
    Account,
    Compliance,
    Coverage,
    CoverageStatus,
    EvaluationFlag,
    Finding,
    RuleInfo,
    RuleResult,
    SkippedRule,
    SkipReason,
)
from config_report.domain.rules import RuleFilter, normalize_rule_name
from config_report.logs import warn_once

# GetComplianceDetailsByConfigRule accepts at most 100 results per page.
_DETAIL_PAGE_SIZE = 100
# DescribeConfigRuleEvaluationStatus accepts at most 50 results per page.
_EVALUATION_STATUS_PAGE_SIZE = 50

_KNOWN_STATES = frozenset({"ACTIVE", "EVALUATING", "DELETING", "DELETING_RESULTS"})
_DELETING_STATES = frozenset({"DELETING", "DELETING_RESULTS"})


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the reader needs from settings: which rules to report, and when a rule is stale."""

    rule_filter: RuleFilter
    stale_margin: timedelta  # how late a periodic rule may be beyond its own frequency
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RegionResult:
    """Everything read from one account × region."""

    rules: tuple[RuleResult, ...]
    findings: tuple[Finding, ...]
    coverage: Coverage
    skipped: tuple[SkippedRule, ...] = ()


@dataclass(frozen=True, slots=True)
class _ListedRule:
    name: str
    normalized_name: str
    created_by: str
    state: str
    modes: tuple[str, ...]
    info: RuleInfo | None = None  # the catalogue facts (source, identifier, description)
    frequency: timedelta | None = None  # how often AWS runs it on a schedule; None: on changes only


@dataclass(frozen=True, slots=True)
class _Health:
    last_success: datetime | None = None
    last_failure: datetime | None = None
    error_code: str = ""


def _warn_unknown(what: str, value: str) -> None:
    """A value this version does not know: reported as it came, with one warning per run."""
    warn_once("config.unknown_value", key=(what, value), field=what, value=value, reported="as it came")


def scan_region(config_client: Any, account: Account, region: str, options: ReadOptions) -> RegionResult:
    """Read one region: recorder status, rules, compliance, evaluation health, non-compliant results."""
    try:
        recorders = recorder_state(config_client)
        if recorders.status is not None:
            return RegionResult((), (), Coverage(account.id, region, recorders.status, recorders.detail))
        listed = list(_listed_rules(config_client))
        compliance = _rule_compliance(config_client)
    except AwsError as exc:
        return RegionResult((), (), Coverage(account.id, region, region_status(exc), describe_error(exc)))
    live, skipped = _choose(listed, options.rule_filter, account.id, region)
    health, health_error = _evaluation_health(config_client, bool(live))
    rules: list[RuleResult] = []
    findings: list[Finding] = []
    # One paginator for every rule: botocore builds a paginator class each time one is asked for.
    details = config_client.get_paginator("get_compliance_details_by_config_rule")
    for rule in live:
        result, failing = _read_rule(details, account.id, region, rule, compliance, health, options)
        rules.append(result)
        findings.extend(failing)
    status = region_status(health_error) if health_error is not None else CoverageStatus.OK
    coverage = Coverage(account.id, region, status, _detail(rules, health_error)).noted(recorders.detail)
    return RegionResult(tuple(rules), tuple(findings), coverage, tuple(skipped))


def _listed_rules(config_client: Any) -> Iterator[_ListedRule]:
    for page in config_client.get_paginator("describe_config_rules").paginate():
        for rule in page.get("ConfigRules", []):
            name = rule["ConfigRuleName"]
            created_by = rule.get("CreatedBy") or ""
            state = rule.get("ConfigRuleState") or "ACTIVE"
            if state not in _KNOWN_STATES:
                _warn_unknown("ConfigRuleState", state)
            yield _ListedRule(
                name=name,
                normalized_name=normalize_rule_name(name, created_by or None),
                created_by=created_by,
                state=state,
                modes=tuple(str(m.get("Mode", "")) for m in rule.get("EvaluationModes") or ()),
                info=rule_info(rule),
                frequency=schedule(rule),
            )


def _choose(
    listed: list[_ListedRule], rule_filter: RuleFilter, account_id: str, region: str
) -> tuple[list[_ListedRule], list[SkippedRule]]:
    live: list[_ListedRule] = []
    skipped: list[SkippedRule] = []
    for rule in listed:
        reason = _skip_reason(rule, rule_filter)
        if reason is None:
            live.append(rule)
        else:
            skipped.append(SkippedRule(account_id, region, rule.name, rule.normalized_name, reason))
    return live, skipped


def _skip_reason(rule: _ListedRule, rule_filter: RuleFilter) -> SkipReason | None:
    if rule.state in _DELETING_STATES:
        return SkipReason.DELETING
    if rule.modes and "DETECTIVE" not in rule.modes:
        return SkipReason.PROACTIVE_ONLY
    if not rule_filter.includes(rule.normalized_name):
        return SkipReason.EXCLUDED
    return None


def _rule_compliance(config_client: Any) -> dict[str, Compliance]:
    states: dict[str, Compliance] = {}
    for page in config_client.get_paginator("describe_compliance_by_config_rule").paginate():
        for item in page.get("ComplianceByConfigRules", []):
            kind = (item.get("Compliance") or {}).get("ComplianceType") or Compliance.INSUFFICIENT_DATA.value
            compliance = Compliance(kind)
            if not compliance.is_known:
                _warn_unknown("ComplianceType", kind)
            states[item["ConfigRuleName"]] = compliance
    return states


def _evaluation_health(config_client: Any, any_rules: bool) -> tuple[dict[str, _Health], Exception | None]:
    """Each rule's last success and failure, or the error that prevented reading them."""
    health: dict[str, _Health] = {}
    if not any_rules:
        return health, None
    try:
        pages = config_client.get_paginator("describe_config_rule_evaluation_status").paginate(
            PaginationConfig={"PageSize": _EVALUATION_STATUS_PAGE_SIZE}
        )
        for page in pages:
            for status in page.get("ConfigRulesEvaluationStatus", []):
                failures = [status.get("LastFailedEvaluationTime"), status.get("LastFailedInvocationTime")]
                successes = [
                    status.get("LastSuccessfulEvaluationTime"),
                    status.get("LastSuccessfulInvocationTime"),
                ]
                health[status["ConfigRuleName"]] = _Health(
                    # A periodic rule invoked with nothing new to write still ran: the later time counts.
                    last_success=max((s for s in successes if s is not None), default=None),
                    last_failure=max((f for f in failures if f is not None), default=None),
                    error_code=status.get("LastErrorCode") or "",
                )
    except AwsError as exc:
        return {}, exc
    return health, None


def _flag(
    health: _Health, frequency: timedelta | None, now: datetime, margin: timedelta
) -> EvaluationFlag | None:
    if health.last_failure is not None and (
        health.last_success is None or health.last_failure > health.last_success
    ):
        return EvaluationFlag.FAILED
    if frequency is None or health.last_success is None:
        return None  # AWS promises no evaluation of a change-triggered rule while nothing changes
    return EvaluationFlag.STALE if now - health.last_success > frequency + margin else None


def _read_rule(
    details: Any,
    account_id: str,
    region: str,
    rule: _ListedRule,
    compliance: dict[str, Compliance],
    health_by_rule: dict[str, _Health],
    options: ReadOptions,
) -> tuple[RuleResult, tuple[Finding, ...]]:
    state = compliance.get(rule.name, Compliance.INSUFFICIENT_DATA)
    health = health_by_rule.get(rule.name, _Health())
    result = RuleResult(
        account_id,
        region,
        rule.name,
        state,
        normalized_name=rule.normalized_name,
        created_by=rule.created_by,
        state=rule.state,
        info=rule.info,
        last_successful_evaluation=health.last_success,
        last_failed_evaluation=health.last_failure,
        last_error_code=health.error_code,
        evaluation_flag=_flag(health, rule.frequency, options.clock(), options.stale_margin),
    )
    if state is not Compliance.NON_COMPLIANT:
        return result, ()
    try:
        failing = tuple(_noncompliant(details, account_id, region, rule))
    except AwsError as exc:
        # This rule alone is lost (deleted since it was listed, denied, retries exhausted): keep the rest.
        return replace(result, read_status=failure_status(exc), read_detail=describe_error(exc)), ()
    return replace(result, noncompliant_resources=len(failing)), failing


def _noncompliant(details: Any, account_id: str, region: str, rule: _ListedRule) -> Iterator[Finding]:
    # Every page is read: ComplianceContributorCount stops counting at 100, the detail pages do not.
    pages = details.paginate(
        ConfigRuleName=rule.name,
        ComplianceTypes=[Compliance.NON_COMPLIANT.value],
        PaginationConfig={"PageSize": _DETAIL_PAGE_SIZE},
    )
    for page in pages:
        for result in page.get("EvaluationResults", []):
            qualifier = (result.get("EvaluationResultIdentifier") or {}).get(
                "EvaluationResultQualifier"
            ) or {}
            # Types and annotations repeat across thousands of findings: one copy of each is kept
            # (measured: 392 → 222 bytes per finding, docs/benchmarks.md).
            yield Finding(
                account_id=account_id,
                region=region,
                rule_name=rule.name,
                resource_type=sys.intern(qualifier.get("ResourceType", "")),
                resource_id=qualifier.get("ResourceId", ""),
                annotation=sys.intern(result.get("Annotation", "")),
                last_evaluated=result.get("ResultRecordedTime"),
                normalized_name=rule.normalized_name,
            )


def _detail(rules: list[RuleResult], health_error: BaseException | None) -> str:
    parts = []
    if health_error is not None:
        parts.append(
            f"{describe_error(health_error)} (rules and findings were read; stale and failing rules"
            " could not be flagged)"
        )
    unread = [r for r in rules if r.unread]
    if unread:
        listed = "; ".join(f"{r.rule_name} ({r.read_status.value}: {r.read_detail})" for r in unread)
        parts.append(f"{len(unread)} rule(s) could not be read, the others were: {listed}")
    return " | ".join(parts)


_SCHEDULED = frozenset({"ScheduledNotification", "ConfigurationSnapshotDeliveryCompleted"})


def schedule(rule: Mapping[str, Any]) -> timedelta | None:
    """How often AWS runs one `DescribeConfigRules` item on a schedule; None when it runs only on
    configuration changes."""
    frequency = rule.get("MaximumExecutionFrequency")
    if frequency:
        return FREQUENCIES.get(str(frequency), DEFAULT_FREQUENCY)
    source = rule.get("Source") or {}
    for detail in source.get("SourceDetails") or ():
        if detail.get("MessageType") in _SCHEDULED:
            return FREQUENCIES.get(str(detail.get("MaximumExecutionFrequency")), DEFAULT_FREQUENCY)
    if source.get("Owner") == "AWS" and source.get("SourceIdentifier") in PERIODIC_MANAGED_RULES:
        return DEFAULT_FREQUENCY  # created without a frequency: AWS runs it every 24 hours
    return None


def rule_info(rule: Mapping[str, object]) -> RuleInfo:
    """The catalogue facts of one `DescribeConfigRules` item: its source and description."""
    source = rule.get("Source")
    source = source if isinstance(source, Mapping) else {}
    return RuleInfo(
        source_owner=str(source.get("Owner", "")),
        source_identifier=str(source.get("SourceIdentifier", "")),
        description=str(rule.get("Description", "") or ""),
    )
