"""AWS Config's configuration aggregator, as config-report reads it; moto 5.2.1 stores aggregators
(`PutConfigurationAggregator`, `DescribeConfigurationAggregators`) but answers none of these four:
`DescribeConfigurationAggregatorSourcesStatus`, `DescribeAggregateComplianceByConfigRules`,
`GetAggregateComplianceDetailsByConfigRule` and `SelectAggregateResourceConfig`.

An aggregator replicates each source's (account × region) Config data into the aggregator account.
`AggregatorApi` answers the four actions for the aggregators of one account and region, over `Source`
views that `_moto.py` builds from the sources' own compliance stores, rules, recorders and inventory;
`Aggregation` holds what the simulation adds to a moto aggregator: a source whose aggregation failed,
a source whose copy lags behind its account (a copy frozen at one moment, so that later changes in the
account do not show until it catches up), a source whose recorder does not record
`AWS::Config::ResourceCompliance`, and when the sources were last replicated.

Faithful to the AWS Config API reference (2014-11-12):

- every action: `ConfigurationAggregatorName` 1-256 characters of `[\\w\\-]+` (`ValidationException`
  otherwise); an unknown name is `NoSuchConfigurationAggregatorException` (moto's wording, as its own
  `DescribeConfigurationAggregators` answers); a `Limit` outside its range is `InvalidLimitException`
  ("The specified limit is outside the allowable range."), a token it did not issue
  `InvalidNextTokenException`.
- `DescribeConfigurationAggregatorSourcesStatus`: `Limit` 0-100 (0 or none: the maximum);
  `UpdateStatus` filters on `FAILED`, `SUCCEEDED`, `OUTDATED` (at least one value). Each
  `AggregatedSourceStatus` has `SourceId`, `SourceType` (`ACCOUNT`, `ORGANIZATION`), `AwsRegion`,
  `LastUpdateStatus`, `LastUpdateTime` and, after a failure, `LastErrorCode` and `LastErrorMessage`.
- `DescribeAggregateComplianceByConfigRules`: `Limit` 0-1000 (0 or none: the maximum); filters on
  `ConfigRuleName`, `ComplianceType` (`COMPLIANT` or `NON_COMPLIANT` only: "Config does not support the
  NOT_APPLICABLE and the INSUFFICIENT_DATA values"), `AccountId`, `AwsRegion`. It "does not display rules
  that do not have compliance results": a rule with no evaluation, or only NOT_APPLICABLE ones, is not
  listed. A NON_COMPLIANT rule carries `ComplianceContributorCount`, capped at 100.
- `GetAggregateComplianceDetailsByConfigRule`: `ConfigRuleName`, `AccountId` and `AwsRegion` required;
  `Limit` 0-100, default 50; `ComplianceType` `COMPLIANT` or `NON_COMPLIANT` only, and only those two are
  returned. Each result carries its `AccountId` and `AwsRegion`.
- `SelectAggregateResourceConfig`: `Expression` 1-4,096 characters; `Limit` (or `MaxResults`) 0-100,
  and "if you run a non-aggregation query ... and do not specify the MaxResults or the Limit query
  parameters, the default page size is set to 25". Results are JSON strings nesting dotted properties
  (`configuration.targetResourceId` comes back as `{"configuration": {"targetResourceId": ...}}`).

Where AWS does not document behaviour, the simulator makes the plain choice and says so:

- an organization aggregator's status lists one `ORGANIZATION` entry per aggregated region and one
  `ACCOUNT` entry per member account and region; config-report reads either shape. A source is
  `SUCCEEDED` where Config records (the account's own recorder or a service-linked one), `OUTDATED`
  where it delivers nothing new (no recorder, a stopped or failing one, a region the account cannot
  use), `FAILED` where the test says so (AWS documents no list of aggregation error codes).
- `AllAwsRegions` means the regions the simulated organization uses (`Aggregation.all_regions`).
- rules being deleted (`DELETING`, `DELETING_RESULTS`) are not aggregated: their results are going.
- `SelectAggregateResourceConfig` understands the two shapes config-report sends:
  `SELECT <properties> WHERE resourceId IN ('id', ...)` (tags for owners, as `SelectResourceConfig`),
  and `SELECT <properties> WHERE resourceType = 'AWS::Config::ResourceCompliance' AND
  configuration.complianceType = 'NON_COMPLIANT'`, optionally `AND awsRegion = '<region>'` (one query a
  region, so that the regions' pages can be read at once; each non-compliant resource with the rules it is
  evaluated by, `configuration.configRuleList`, whose one-element list AWS's answers give as a bare
  object); any other expression is `InvalidExpressionException`. A `ResourceCompliance` item has
  `configuration.targetResourceType`, `targetResourceId`, `complianceType` and `configRuleList` (each
  rule's `configRuleName` and `complianceType`), and `configurationItemCaptureTime`, the time the
  resource's compliance last changed; it exists only where the source records that resource type.
- pages of a listing come from one snapshot taken by its first call (AWS's tokens are opaque).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from config_report.simulated.compliance import (
    COMPLIANT,
    CONTRIBUTOR_CAP,
    NON_COMPLIANT,
    ConfigApiError,
    Evaluation,
    Params,
    Response,
    _capped,
    _constraint,
    _enum_constraint,
    rule_compliance,
)
from config_report.simulated.compliance import _evaluation_result as _account_evaluation_result
from config_report.simulated.inventory import ConfigurationItem, _parse, checked_expression

SUCCEEDED, FAILED, OUTDATED = "SUCCEEDED", "FAILED", "OUTDATED"
UPDATE_STATUSES = (FAILED, SUCCEEDED, OUTDATED)
SOURCES_MAX_LIMIT = 100
RULES_MAX_LIMIT = 1000
DETAILS_DEFAULT_LIMIT = 50
DETAILS_MAX_LIMIT = 100
SELECT_DEFAULT_LIMIT = 25
SELECT_MAX_LIMIT = 100
RESOURCE_COMPLIANCE = "AWS::Config::ResourceCompliance"
_AGGREGATED_TYPES = (COMPLIANT, NON_COMPLIANT)
_NAME = re.compile(r"[\w\-]{1,256}")
_COMPLIANCE_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>[\w\s,.]+?)\s+WHERE\s+resourceType\s*=\s*'AWS::Config::ResourceCompliance'"
    r"\s+AND\s+configuration\.complianceType\s*=\s*'NON_COMPLIANT'"
    r"(?:\s+AND\s+awsRegion\s*=\s*'(?P<region>[a-z0-9-]+)')?\s*$",
    re.IGNORECASE,
)
_COMPLIANCE_PROPERTIES = (
    "accountId",
    "awsRegion",
    "resourceId",
    "resourceType",
    "configuration.targetResourceId",
    "configuration.targetResourceType",
    "configuration.complianceType",
    "configuration.configRuleList",
    "configurationItemCaptureTime",
)
_CURSORS_KEPT = 256


@dataclass(frozen=True, slots=True)
class Source:
    """One source (account × region) as the aggregator holds it."""

    account_id: str
    region: str
    status: str  # SUCCEEDED, FAILED or OUTDATED
    updated_at: datetime | None
    # The aggregated rules and their evaluations, read when asked for (a listing of tags needs none).
    read_rules: Callable[[], Mapping[str, tuple[Evaluation, ...]]]
    records_compliance: bool = True  # does the source record AWS::Config::ResourceCompliance?
    error_code: str = ""
    error_message: str = ""

    @property
    def rules(self) -> Mapping[str, tuple[Evaluation, ...]]:
        """The aggregated rules and their evaluations (read anew: keep what you need)."""
        return self.read_rules()


class Sources(Protocol):
    """The sources of one aggregator: every one, or one by account and region."""

    organization_id: str | None  # the organization an organization aggregator aggregates

    def all(self, region: str | None = None) -> Sequence[Source]:
        """Every source (of one region), by account and region."""
        ...

    def one(self, account_id: str, region: str) -> Source | None:
        """The source of this account and region, None when the aggregator has none."""
        ...

    def items(self, resource_ids: set[str]) -> Iterable[tuple[str, str, ConfigurationItem]]:
        """(account, region, item) of every current item whose resource ID is one of `resource_ids`."""
        ...


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """Why the aggregation of one source failed, and when."""

    error_code: str
    error_message: str
    failed_at: datetime


@dataclass(frozen=True, slots=True)
class Copy:
    """A source's rules and evaluations as the aggregator copied them at `taken_at` (a lagging source)."""

    rules: Mapping[str, tuple[Evaluation, ...]]
    taken_at: datetime


@dataclass
class Aggregation:
    """What the simulation adds to one moto aggregator; thread-safe.

    `replicated_at` is when every source neither failing nor lagging was last copied (the aggregator
    reads those sources as they are now: a source catches up at once unless it lags).
    """

    replicated_at: datetime
    all_regions: tuple[str, ...] = ()
    _failures: dict[tuple[str, str], SourceFailure] = field(default_factory=dict)
    _copies: dict[tuple[str, str], Copy] = field(default_factory=dict)
    _without_compliance_items: set[tuple[str, str]] = field(default_factory=set)
    _cursors: OrderedDict[str, list[Any]] = field(default_factory=OrderedDict)
    _cursor_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, account_id: str, region: str, failure: SourceFailure) -> None:
        """The aggregation of this source failed (and keeps failing) with AWS's error."""
        with self._lock:
            self._failures[(account_id, region)] = failure

    def failure(self, account_id: str, region: str) -> SourceFailure | None:
        """Why this source's aggregation failed, if it did."""
        with self._lock:
            return self._failures.get((account_id, region))

    def lag(self, account_id: str, region: str, copy: Copy) -> None:
        """The aggregator keeps serving `copy` of this source, whatever changes in the account after."""
        with self._lock:
            self._copies[(account_id, region)] = copy

    def copy_of(self, account_id: str, region: str) -> Copy | None:
        """The frozen copy of a lagging source, None when the source is read as it is."""
        with self._lock:
            return self._copies.get((account_id, region))

    def catch_up(self, at: datetime) -> None:
        """Every source is copied again at `at`: lags end (failures do not)."""
        with self._lock:
            self._copies.clear()
            self.replicated_at = at

    def without_compliance_items(self, account_id: str, region: str) -> None:
        """This source's recorder does not record AWS::Config::ResourceCompliance."""
        with self._lock:
            self._without_compliance_items.add((account_id, region))

    def records_compliance(self, account_id: str, region: str) -> bool:
        """Whether this source's recorder records AWS::Config::ResourceCompliance."""
        with self._lock:
            return (account_id, region) not in self._without_compliance_items

    def reset(self, at: datetime) -> None:
        """Healthy again: no failure, no lag, every source recording its compliance items, copied at `at`."""
        with self._lock:
            self._failures.clear()
            self._copies.clear()
            self._without_compliance_items.clear()
            self.replicated_at = at

    def open_cursor(self, items: list[Any]) -> str:
        """Keep a listing's snapshot for its next pages; returns its ID."""
        with self._lock:
            cursor = str(next(self._cursor_ids))
            self._cursors[cursor] = items
            while len(self._cursors) > _CURSORS_KEPT:
                self._cursors.popitem(last=False)
            return cursor

    def cursor(self, cursor: str) -> list[Any] | None:
        """A listing's snapshot, None when it was never opened or has been dropped."""
        with self._lock:
            return self._cursors.get(cursor)


# The aggregators of one account and region: name -> (its simulated state, its sources), None if unknown.
Lookup = Callable[[str], tuple[Aggregation, Sources] | None]


class AggregatorApi:
    """The four aggregator actions for one account and region; method names are the actions in snake_case."""

    ACTIONS = (
        "describe_configuration_aggregator_sources_status",
        "describe_aggregate_compliance_by_config_rules",
        "get_aggregate_compliance_details_by_config_rule",
        "select_aggregate_resource_config",
    )

    def __init__(self, lookup: Lookup) -> None:
        self._lookup = lookup

    def describe_configuration_aggregator_sources_status(self, params: Params) -> Response:
        """DescribeConfigurationAggregatorSourcesStatus: each source's last update, 100 per page."""
        aggregation, sources = self._aggregator(params)
        wanted = _update_statuses(params)
        limit = _limit(params, SOURCES_MAX_LIMIT, SOURCES_MAX_LIMIT)

        def listing() -> list[Response]:
            entries = [*_organization_entries(aggregation, sources), *map(_source_entry, sources.all())]
            return [e for e in entries if wanted is None or e["LastUpdateStatus"] in wanted]

        page, token = _paged(aggregation, listing, params.get("NextToken"), limit)
        return _with_token({"AggregatedSourceStatusList": page}, token)

    def describe_aggregate_compliance_by_config_rules(self, params: Params) -> Response:
        """DescribeAggregateComplianceByConfigRules: every account × region × rule with results."""
        aggregation, sources = self._aggregator(params)
        filters = params.get("Filters") or {}
        wanted = _aggregated_type(filters.get("ComplianceType"), "filters.complianceType")
        limit = _limit(params, RULES_MAX_LIMIT, RULES_MAX_LIMIT)

        def listing() -> list[Response]:
            return [
                item
                for source in sources.all()
                if filters.get("AccountId") in (None, source.account_id)
                and filters.get("AwsRegion") in (None, source.region)
                for item in _rule_items(source, filters.get("ConfigRuleName"), wanted)
            ]

        page, token = _paged(aggregation, listing, params.get("NextToken"), limit)
        return _with_token({"AggregateComplianceByConfigRules": page}, token)

    def get_aggregate_compliance_details_by_config_rule(self, params: Params) -> Response:
        """GetAggregateComplianceDetailsByConfigRule: one rule's results in one source, `Limit` per page."""
        aggregation, sources = self._aggregator(params)
        for name in ("ConfigRuleName", "AccountId", "AwsRegion"):
            if not params.get(name):
                raise _constraint(name[0].lower() + name[1:], params.get(name), "Member must not be null")
        wanted = _aggregated_type(params.get("ComplianceType"), "complianceType")
        types = (wanted,) if wanted else _AGGREGATED_TYPES
        limit = _limit(params, DETAILS_DEFAULT_LIMIT, DETAILS_MAX_LIMIT)

        def listing() -> list[Response]:
            source = sources.one(str(params["AccountId"]), str(params["AwsRegion"]))
            evaluations = source.read_rules().get(str(params["ConfigRuleName"]), ()) if source else ()
            return [
                _evaluation_result(e, source.account_id, source.region)
                for e in evaluations
                if source is not None and e.compliance in types
            ]

        page, token = _paged(aggregation, listing, params.get("NextToken"), limit)
        return _with_token({"AggregateEvaluationResults": page}, token)

    def select_aggregate_resource_config(self, params: Params) -> Response:
        """SelectAggregateResourceConfig: the two query shapes config-report sends (module docstring)."""
        aggregation, sources = self._aggregator(params)
        expression = checked_expression(params)
        limit = _limit(
            {"Limit": params.get("Limit") or params.get("MaxResults")}, SELECT_DEFAULT_LIMIT, SELECT_MAX_LIMIT
        )
        fields, listing = _query(expression, sources)
        page, token = _paged(aggregation, listing, params.get("NextToken"), limit)
        response: Response = {
            "Results": [json.dumps(result) for result in page],
            "QueryInfo": {"SelectFields": [{"Name": name} for name in fields]},
        }
        return _with_token(response, token)

    def _aggregator(self, params: Params) -> tuple[Aggregation, Sources]:
        name = params.get("ConfigurationAggregatorName")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise _constraint(
                "configurationAggregatorName",
                name,
                "Member must satisfy regular expression pattern: [\\w\\-]+",
            )
        found = self._lookup(name)
        if found is None:
            raise ConfigApiError(
                "NoSuchConfigurationAggregatorException",
                "The configuration aggregator does not exist. Check the configuration aggregator name "
                "and try again.",
            )
        return found


def _organization_entries(aggregation: Aggregation, sources: Sources) -> list[Response]:
    if sources.organization_id is None:
        return []
    regions = sorted({s.region for s in sources.all()})
    return [
        {
            "SourceId": sources.organization_id,
            "SourceType": "ORGANIZATION",
            "AwsRegion": region,
            "LastUpdateStatus": SUCCEEDED,
            "LastUpdateTime": aggregation.replicated_at.timestamp(),
        }
        for region in regions
    ]


def _source_entry(source: Source) -> Response:
    entry: Response = {
        "SourceId": source.account_id,
        "SourceType": "ACCOUNT",
        "AwsRegion": source.region,
        "LastUpdateStatus": source.status,
    }
    if source.updated_at is not None:
        entry["LastUpdateTime"] = source.updated_at.timestamp()
    if source.error_code:
        entry["LastErrorCode"] = source.error_code
        entry["LastErrorMessage"] = source.error_message
    return entry


def _rule_items(source: Source, rule_name: object, wanted: str | None) -> Iterable[Response]:
    rules = source.rules
    for name in sorted(rules):
        if rule_name not in (None, name):
            continue
        compliance, failing = rule_compliance(rules[name])
        if compliance not in _AGGREGATED_TYPES or wanted not in (None, compliance):
            continue  # "Does not display rules that do not have compliance results."
        summary: Response = {"ComplianceType": compliance}
        if compliance == NON_COMPLIANT:
            summary["ComplianceContributorCount"] = _capped(failing, CONTRIBUTOR_CAP)
        yield {
            "ConfigRuleName": name,
            "Compliance": summary,
            "AccountId": source.account_id,
            "AwsRegion": source.region,
        }


def _evaluation_result(evaluation: Evaluation, account_id: str, region: str) -> Response:
    """The evaluation as the account's own API gives it, with the source it came from."""
    return {**_account_evaluation_result(evaluation), "AccountId": account_id, "AwsRegion": region}


def _query(expression: str, sources: Sources) -> tuple[tuple[str, ...], Callable[[], list[Response]]]:
    """The selected properties and the listing of one of the two understood query shapes."""
    compliance = _COMPLIANCE_QUERY.match(expression)
    if compliance is not None:
        fields = tuple(f.strip() for f in compliance["fields"].split(","))
        if not fields or any(f not in _COMPLIANCE_PROPERTIES for f in fields):
            raise _invalid(expression)
        region = compliance["region"]
        return fields, lambda: [_selected(item, fields) for item in _compliance_items(sources.all(region))]
    fields, ids = _parse(expression)

    def tagged() -> list[Response]:
        return [
            _selected(_item_properties(item, account_id, region), fields)
            for account_id, region, item in sources.items(ids)
        ]

    return fields, tagged


def _item_properties(item: ConfigurationItem, account_id: str, region: str) -> Response:
    return {
        "resourceId": item.resource_id,
        "resourceType": item.resource_type,
        "accountId": account_id,
        "awsRegion": region,
        "tags": [{"key": k, "value": v, "tag": f"{k}={v}"} for k, v in sorted(item.tags.items())],
    }


def _compliance_items(sources: Iterable[Source]) -> Iterable[Response]:
    """One `AWS::Config::ResourceCompliance` item per non-compliant resource of each source recording them."""
    for source in sources:
        if not source.records_compliance:
            continue
        by_resource: dict[tuple[str, str], list[Evaluation]] = {}
        for evaluations in source.rules.values():
            for e in evaluations:
                if e.compliance in _AGGREGATED_TYPES:
                    by_resource.setdefault((e.resource_type, e.resource_id), []).append(e)
        for (resource_type, resource_id), found in sorted(by_resource.items()):
            if all(e.compliance != NON_COMPLIANT for e in found):
                continue
            rules = [
                {"configRuleName": e.rule_name, "complianceType": e.compliance}
                for e in sorted(found, key=lambda e: e.rule_name)
            ]
            yield {
                "accountId": source.account_id,
                "awsRegion": source.region,
                "resourceId": f"{resource_type}/{resource_id}",
                "resourceType": RESOURCE_COMPLIANCE,
                "configuration.targetResourceId": resource_id,
                "configuration.targetResourceType": resource_type,
                "configuration.complianceType": NON_COMPLIANT,
                # AWS's answers give a one-element list as the element itself.
                "configuration.configRuleList": rules[0] if len(rules) == 1 else rules,
                "configurationItemCaptureTime": max(e.evaluated_at for e in found).isoformat(),
            }


def _selected(properties: Mapping[str, Any], fields: Sequence[str]) -> Response:
    """The selected properties, dotted ones nested as AWS nests them."""
    result: Response = {}
    for name in fields:
        *parents, leaf = name.split(".")
        target = result
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = properties[name]
    return result


def _invalid(expression: str) -> ConfigApiError:
    return ConfigApiError("InvalidExpressionException", f"Invalid expression: {expression[:200]}")


def _update_statuses(params: Params) -> frozenset[str] | None:
    values = params.get("UpdateStatus")
    if values is None:
        return None
    if not values:
        raise _constraint("updateStatus", values, "Member must have length greater than or equal to 1")
    for value in values:
        if value not in UPDATE_STATUSES:
            raise _constraint("updateStatus", values, _enum_constraint(UPDATE_STATUSES))
    return frozenset(values)


def _aggregated_type(value: object, where: str) -> str | None:
    if value is None:
        return None
    if value not in _AGGREGATED_TYPES:
        raise ConfigApiError(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy constraint: "
            "Config supports only COMPLIANT and NON_COMPLIANT for this parameter",
        )
    return str(value)


def _limit(params: Params, default: int, maximum: int) -> int:
    limit = params.get("Limit")
    if limit is None or limit == 0:
        return default
    if not isinstance(limit, int) or not 0 <= limit <= maximum:
        raise ConfigApiError("InvalidLimitException", "The specified limit is outside the allowable range.")
    return limit


def _paged(
    aggregation: Aggregation, listing: Callable[[], list[Any]], next_token: object, size: int
) -> tuple[list[Any], str | None]:
    """One page: the first from a new snapshot of `listing`, the next ones from that snapshot."""
    if next_token:
        cursor, offset = _position(next_token)
        items = aggregation.cursor(cursor)
        if items is None or offset > len(items):
            raise _bad_token()
    else:
        items, offset = listing(), 0
        cursor = aggregation.open_cursor(items) if len(items) > size else ""
    end = offset + size
    return items[offset:end], (_token(cursor, end) if end < len(items) else None)


def _token(cursor: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"config-report-aggregator:{cursor}:{offset}".encode()).decode()


def _position(token: object) -> tuple[str, int]:
    try:
        prefix, cursor, offset = base64.urlsafe_b64decode(str(token).encode()).decode().split(":")
        if prefix == "config-report-aggregator" and int(offset) >= 0:
            return cursor, int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise _bad_token()


def _bad_token() -> ConfigApiError:
    return ConfigApiError("InvalidNextTokenException", "The nextToken provided is invalid")


def _with_token(response: Response, token: str | None) -> Response:
    if token is not None:
        response["NextToken"] = token
    return response
