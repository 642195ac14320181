"""AWS Config's compliance APIs, which moto 5.2.1 lacks (it answers HTTP 500 and stores no evaluations).

`ComplianceApi` answers the six actions below for one account and region, from a `ComplianceStore` of
evaluation results and the Config rules moto already holds. Requests and responses are AWS's JSON wire
shapes (`dict`s straight from and to the HTTP body); errors are `ConfigApiError` carrying AWS's error
code. `_moto.py` plugs these actions into moto's Config endpoint.

Faithful to the AWS Config API reference (2014-11-12) where it is documented:

- `DescribeComplianceByConfigRule`: 25 rules per page (the same page size as `DescribeConfigRules`),
  `NextToken`; a rule is NON_COMPLIANT when any resource is, COMPLIANT when some resource is and none
  is not, INSUFFICIENT_DATA otherwise (no evaluations, or only NOT_APPLICABLE ones). The number of
  non-compliant resources comes as `ComplianceContributorCount`, capped at 100 (`CapExceeded`).
- `GetComplianceDetailsByConfigRule`: `Limit` defaults to 10 (also for 0) and may not exceed 100.
- `DescribeComplianceByResource`: `Limit` as above; a resource's contributor count is the number of
  rules it fails.
- `GetComplianceSummaryByConfigRule`: rule counts capped at 25.
- `DescribeConfigRuleEvaluationStatus`: `Limit` up to 50 (also the page size without one), at most
  25 `ConfigRuleNames`; `LastSuccessfulInvocationTime` is later than `LastSuccessfulEvaluationTime`
  when AWS invoked the rule since it last wrote a result (`ComplianceStore.invoke`); a rule whose
  last evaluation failed carries `LastFailedEvaluationTime`,
  `LastFailedInvocationTime`, `LastErrorCode` and `LastErrorMessage` (`ComplianceStore.fail`).
- `PutEvaluations`: at most 100 evaluations; INSUFFICIENT_DATA is refused; `TestMode` stores nothing.

Where AWS does not document behaviour, the simulator picks the plain choice: results are ordered by
rule name, or by resource type and ID; `NextToken` is an opaque offset; model constraints (lengths,
ranges, enums) fail with `ValidationException` and AWS's "1 validation error detected" wording.

Simulator convention: a `ResultToken` is the name of the rule the evaluations belong to (AWS hands a
Lambda an encrypted token instead); `result_token()` builds one.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

COMPLIANT = "COMPLIANT"
NON_COMPLIANT = "NON_COMPLIANT"
NOT_APPLICABLE = "NOT_APPLICABLE"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
_ALL_COMPLIANCE_TYPES = (COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, INSUFFICIENT_DATA)

RULES_PAGE_SIZE = 25
DETAILS_DEFAULT_LIMIT = 10
DETAILS_MAX_LIMIT = 100
CONTRIBUTOR_CAP = 100
SUMMARY_CAP = 25
EVALUATION_STATUS_MAX_LIMIT = 50
PUT_EVALUATIONS_MAX = 100
ANNOTATION_MAX_LENGTH = 256
_RULE_NAMES_MAX = 25
_COMPLIANCE_TYPES_MAX = 3

T = TypeVar("T")
Params = Mapping[str, Any]
Response = dict[str, Any]


class ConfigApiError(Exception):
    """An AWS Config error response: `code` is the `__type` AWS sends, `message` its text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The latest evaluation of one resource by one rule, as Config stores it."""

    rule_name: str
    resource_type: str
    resource_id: str
    compliance: str
    # One timestamp serves as ordering, invocation and recording time, so whichever of the three a
    # client reports as "last evaluated" gives the same answer.
    evaluated_at: datetime
    annotation: str = ""


@dataclass(frozen=True, slots=True)
class EvaluationFailure:
    """A rule's last failed evaluation: when, and the error Config recorded."""

    failed_at: datetime
    error_code: str
    error_message: str


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What the compliance APIs need to know about a Config rule that moto holds."""

    name: str
    arn: str
    rule_id: str
    activated_at: datetime


def result_token(rule_name: str) -> str:
    """The `ResultToken` for evaluations of `rule_name` (the simulator's convention: the name itself)."""
    return rule_name


def rule_compliance(evaluations: Iterable[Evaluation]) -> tuple[str, int]:
    """A rule's compliance type and its number of non-compliant resources, by AWS's definition.

    A type AWS has not defined yet (only ever written straight into the store, to prove that clients
    survive one) wins over COMPLIANT: the simulator's plain choice, AWS says nothing of it.
    """
    compliances = [e.compliance for e in evaluations]
    noncompliant = compliances.count(NON_COMPLIANT)
    if noncompliant:
        return NON_COMPLIANT, noncompliant
    unknown = sorted(set(compliances) - set(_ALL_COMPLIANCE_TYPES))
    if unknown:
        return unknown[0], 0
    if COMPLIANT in compliances:
        return COMPLIANT, 0
    return INSUFFICIENT_DATA, 0


class ComplianceStore:
    """The latest evaluation per rule and resource in one account and region; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_rule: dict[str, dict[tuple[str, str], Evaluation]] = {}
        self._failures: dict[str, EvaluationFailure] = {}
        self._invocations: dict[str, datetime] = {}

    def put(self, evaluations: Iterable[Evaluation]) -> None:
        """Store evaluations, each replacing an older one for the same rule and resource."""
        with self._lock:
            for evaluation in evaluations:
                by_resource = self._by_rule.setdefault(evaluation.rule_name, {})
                key = (evaluation.resource_type, evaluation.resource_id)
                previous = by_resource.get(key)
                if previous is None or previous.evaluated_at <= evaluation.evaluated_at:
                    by_resource[key] = evaluation

    def fail(self, rule_name: str, failure: EvaluationFailure) -> None:
        """Record that the rule's last evaluation failed (a Lambda error, a missing permission...)."""
        with self._lock:
            self._failures[rule_name] = failure

    def invoke(self, rule_name: str, at: datetime) -> None:
        """Record that AWS invoked the rule successfully at `at`, whether or not it wrote new results."""
        with self._lock:
            self._invocations[rule_name] = at

    def last_ran(self, rule_name: str, at: datetime) -> None:
        """AWS last ran the rule at `at` and not since: its results are as of then (a periodic rule that
        stopped running, or a change-triggered one in an account where nothing changed)."""
        with self._lock:
            by_resource = self._by_rule.get(rule_name, {})
            for key, evaluation in by_resource.items():
                by_resource[key] = replace(evaluation, evaluated_at=at)
            self._invocations.pop(rule_name, None)

    def invoked(self, rule_name: str) -> datetime | None:
        """When AWS last invoked the rule successfully, if recorded apart from its results."""
        with self._lock:
            return self._invocations.get(rule_name)

    def failure(self, rule_name: str) -> EvaluationFailure | None:
        """The rule's last failed evaluation, if one was recorded."""
        with self._lock:
            return self._failures.get(rule_name)

    def for_rule(self, rule_name: str) -> tuple[Evaluation, ...]:
        """The rule's evaluations ordered by resource type and ID."""
        with self._lock:
            by_resource = dict(self._by_rule.get(rule_name, {}))
        return tuple(by_resource[key] for key in sorted(by_resource))


class ComplianceApi:
    """The compliance actions for one account and region; method names are the actions in snake_case."""

    ACTIONS = (
        "put_evaluations",
        "describe_compliance_by_config_rule",
        "get_compliance_details_by_config_rule",
        "describe_compliance_by_resource",
        "get_compliance_summary_by_config_rule",
        "describe_config_rule_evaluation_status",
    )

    def __init__(
        self,
        store: ComplianceStore,
        rules: Iterable[RuleInfo],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._rules = {rule.name: rule for rule in rules}
        self._clock = clock

    def put_evaluations(self, params: Params) -> Response:
        """PutEvaluations: validate, then store unless `TestMode`."""
        raw = params.get("Evaluations") or []
        if len(raw) > PUT_EVALUATIONS_MAX:
            raise _constraint(
                "evaluations", raw, f"Member must have length less than or equal to {PUT_EVALUATIONS_MAX}"
            )
        token = params.get("ResultToken")
        if not token:
            raise ConfigApiError("InvalidResultTokenException", "The resultToken provided is invalid")
        rule_name = str(token)
        evaluations = [self._evaluation(rule_name, item, index) for index, item in enumerate(raw, 1)]
        if params.get("TestMode"):
            return {"FailedEvaluations": []}
        if rule_name not in self._rules:
            raise ConfigApiError("InvalidResultTokenException", "The resultToken provided is invalid")
        self._store.put(evaluations)
        return {"FailedEvaluations": []}

    def describe_compliance_by_config_rule(self, params: Params) -> Response:
        """DescribeComplianceByConfigRule: 25 rules per page."""
        wanted = _compliance_filter(params, (COMPLIANT, NON_COMPLIANT, INSUFFICIENT_DATA))
        items = []
        for name in self._rule_names(params):
            compliance, noncompliant = rule_compliance(self._store.for_rule(name))
            if wanted is None or compliance in wanted:
                items.append({"ConfigRuleName": name, "Compliance": _compliance(compliance, noncompliant)})
        page, token = _page(items, params.get("NextToken"), RULES_PAGE_SIZE)
        return _with_token({"ComplianceByConfigRules": page}, token)

    def get_compliance_details_by_config_rule(self, params: Params) -> Response:
        """GetComplianceDetailsByConfigRule: the rule's evaluation results, `Limit` per page."""
        name = str(params.get("ConfigRuleName") or "")
        if name not in self._rules:
            raise _no_such_rule(name)
        wanted = _compliance_filter(params, (COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE))
        limit = _limit(params, DETAILS_DEFAULT_LIMIT, DETAILS_MAX_LIMIT)
        results = [e for e in self._store.for_rule(name) if wanted is None or e.compliance in wanted]
        page, token = _page(results, params.get("NextToken"), limit)
        return _with_token({"EvaluationResults": [_evaluation_result(e) for e in page]}, token)

    def describe_compliance_by_resource(self, params: Params) -> Response:
        """DescribeComplianceByResource: each resource's compliance across all rules, `Limit` per page."""
        resource_type = params.get("ResourceType")
        resource_id = params.get("ResourceId")
        if resource_id and not resource_type:
            raise ConfigApiError(
                "InvalidParameterValueException",
                "The ResourceType is required when you specify a ResourceId. Specify a ResourceType.",
            )
        wanted = _compliance_filter(params, (COMPLIANT, NON_COMPLIANT, INSUFFICIENT_DATA))
        limit = _limit(params, DETAILS_DEFAULT_LIMIT, DETAILS_MAX_LIMIT)
        by_resource: dict[tuple[str, str], list[Evaluation]] = {}
        for name in sorted(self._rules):
            for evaluation in self._store.for_rule(name):
                key = (evaluation.resource_type, evaluation.resource_id)
                if (resource_type in (None, key[0])) and (resource_id in (None, key[1])):
                    by_resource.setdefault(key, []).append(evaluation)
        if resource_type and resource_id:
            by_resource.setdefault((resource_type, resource_id), [])
        items = []
        for (rtype, rid), evaluations in sorted(by_resource.items()):
            compliance, failing_rules = rule_compliance(evaluations)
            if wanted is None or compliance in wanted:
                items.append(
                    {
                        "ResourceType": rtype,
                        "ResourceId": rid,
                        "Compliance": _compliance(compliance, failing_rules),
                    }
                )
        page, token = _page(items, params.get("NextToken"), limit)
        return _with_token({"ComplianceByResources": page}, token)

    def get_compliance_summary_by_config_rule(self, params: Params) -> Response:
        """GetComplianceSummaryByConfigRule: how many rules are compliant and non-compliant (capped at 25)."""
        counts = {COMPLIANT: 0, NON_COMPLIANT: 0, INSUFFICIENT_DATA: 0}
        for name in self._rules:
            counts[rule_compliance(self._store.for_rule(name))[0]] += 1
        return {
            "ComplianceSummary": {
                "CompliantResourceCount": _capped(counts[COMPLIANT], SUMMARY_CAP),
                "NonCompliantResourceCount": _capped(counts[NON_COMPLIANT], SUMMARY_CAP),
                "ComplianceSummaryTimestamp": _epoch(self._clock()),
            }
        }

    def describe_config_rule_evaluation_status(self, params: Params) -> Response:
        """DescribeConfigRuleEvaluationStatus: when each rule was activated and last evaluated."""
        limit = _limit(params, EVALUATION_STATUS_MAX_LIMIT, EVALUATION_STATUS_MAX_LIMIT)
        statuses = [self._status(self._rules[name]) for name in self._rule_names(params)]
        page, token = _page(statuses, params.get("NextToken"), limit)
        return _with_token({"ConfigRulesEvaluationStatus": page}, token)

    def _rule_names(self, params: Params) -> list[str]:
        names = params.get("ConfigRuleNames") or []
        if len(names) > _RULE_NAMES_MAX:
            raise _constraint("configRuleNames", names, "Member must have length less than or equal to 25")
        for name in names:
            if name not in self._rules:
                raise _no_such_rule(name)
        return sorted(set(names) if names else self._rules)

    def _status(self, rule: RuleInfo) -> Response:
        status: Response = {
            "ConfigRuleName": rule.name,
            "ConfigRuleArn": rule.arn,
            "ConfigRuleId": rule.rule_id,
            "FirstActivatedTime": _epoch(rule.activated_at),
            "FirstEvaluationStarted": False,
        }
        evaluations = self._store.for_rule(rule.name)
        invoked = self._store.invoked(rule.name)
        if evaluations:
            latest = max(e.evaluated_at for e in evaluations)
            status.update(
                FirstEvaluationStarted=True,
                LastSuccessfulInvocationTime=_epoch(max(latest, invoked or latest)),
                LastSuccessfulEvaluationTime=_epoch(latest),
            )
        failure = self._store.failure(rule.name)
        if failure is not None:
            failed = _epoch(failure.failed_at)
            status.update(
                FirstEvaluationStarted=True,
                LastFailedInvocationTime=failed,
                LastFailedEvaluationTime=failed,
                LastErrorCode=failure.error_code,
                LastErrorMessage=failure.error_message,
            )
        return status

    def _evaluation(self, rule_name: str, item: Mapping[str, Any], index: int) -> Evaluation:
        where = f"evaluations.{index}.member"
        compliance = item.get("ComplianceType")
        if compliance not in _ALL_COMPLIANCE_TYPES:
            raise _constraint(f"{where}.complianceType", compliance, _enum_constraint(_ALL_COMPLIANCE_TYPES))
        if compliance == INSUFFICIENT_DATA:
            raise ConfigApiError(
                "InvalidParameterValueException",
                "The ComplianceType INSUFFICIENT_DATA is not supported in PutEvaluations. "
                "Use COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE.",
            )
        annotation = str(item.get("Annotation") or "")
        if len(annotation) > ANNOTATION_MAX_LENGTH:
            raise _constraint(
                f"{where}.annotation", annotation, "Member must have length less than or equal to 256"
            )
        ordering = item.get("OrderingTimestamp")
        return Evaluation(
            rule_name=rule_name,
            resource_type=str(item.get("ComplianceResourceType")),
            resource_id=str(item.get("ComplianceResourceId")),
            compliance=compliance,
            evaluated_at=_from_epoch(ordering) if ordering is not None else self._clock(),
            annotation=annotation,
        )


def _compliance(compliance: str, contributors: int) -> Response:
    result: Response = {"ComplianceType": compliance}
    if compliance == NON_COMPLIANT:
        result["ComplianceContributorCount"] = _capped(contributors, CONTRIBUTOR_CAP)
    return result


def _capped(count: int, cap: int) -> Response:
    return {"CappedCount": min(count, cap), "CapExceeded": count > cap}


def _evaluation_result(evaluation: Evaluation) -> Response:
    when = _epoch(evaluation.evaluated_at)
    result: Response = {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {
                "ConfigRuleName": evaluation.rule_name,
                "ResourceType": evaluation.resource_type,
                "ResourceId": evaluation.resource_id,
                "EvaluationMode": "DETECTIVE",
            },
            "OrderingTimestamp": when,
        },
        "ComplianceType": evaluation.compliance,
        "ResultRecordedTime": when,
        "ConfigRuleInvokedTime": when,
    }
    if evaluation.annotation:
        result["Annotation"] = evaluation.annotation
    return result


def _compliance_filter(params: Params, allowed: tuple[str, ...]) -> frozenset[str] | None:
    values = params.get("ComplianceTypes") or []
    if not values:
        return None
    if len(values) > _COMPLIANCE_TYPES_MAX:
        raise _constraint("complianceTypes", values, "Member must have length less than or equal to 3")
    for value in values:
        if value not in _ALL_COMPLIANCE_TYPES:
            raise _constraint("complianceTypes", values, _enum_constraint(_ALL_COMPLIANCE_TYPES))
        if value not in allowed:
            raise ConfigApiError(
                "InvalidParameterValueException",
                f"The ComplianceType {value} is not valid for this operation. "
                f"Valid values are {', '.join(allowed)}.",
            )
    return frozenset(values)


def _limit(params: Params, default: int, maximum: int) -> int:
    limit = params.get("Limit")
    if limit is None or limit == 0:
        return default
    if not isinstance(limit, int) or limit < 0:
        raise _constraint("limit", limit, "Member must have value greater than or equal to 0")
    if limit > maximum:
        raise _constraint("limit", limit, f"Member must have value less than or equal to {maximum}")
    return limit


def _page(items: Sequence[T], next_token: object, size: int) -> tuple[list[T], str | None]:
    start = _offset(next_token, len(items)) if next_token else 0
    end = start + size
    return list(items[start:end]), (_token(end) if end < len(items) else None)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"config-report-sim:{offset}".encode()).decode()


def _offset(token: object, total: int) -> int:
    try:
        prefix, _, number = base64.urlsafe_b64decode(str(token).encode()).decode().partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        offset = -1
        prefix = ""
    if prefix != "config-report-sim" or not 0 <= offset <= total:
        raise ConfigApiError("InvalidNextTokenException", "The nextToken provided is invalid")
    return offset


def _with_token(response: Response, token: str | None) -> Response:
    if token is not None:
        response["NextToken"] = token
    return response


def _no_such_rule(name: str) -> ConfigApiError:
    return ConfigApiError(
        "NoSuchConfigRuleException",
        f"The ConfigRule '{name}' provided in the request is invalid. Please check the configRule name",
    )


def _constraint(field: str, value: object, constraint: str) -> ConfigApiError:
    return ConfigApiError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{field}' "
        f"failed to satisfy constraint: {constraint}",
    )


def _enum_constraint(values: tuple[str, ...]) -> str:
    return f"Member must satisfy enum value set: [{', '.join(values)}]"


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _from_epoch(value: object) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value))
