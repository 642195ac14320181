"""What AWS Config knows about resources: current configuration items with their tags, the resources
it recorded as deleted, and the two reads of them config-report makes: the advanced query
(`SelectResourceConfig`) and `ListDiscoveredResources`. moto 5.2.1 answers the first only with canned
results registered beforehand, and the second only for resources moto itself holds, so the simulator
supplies both.

Faithful to the API reference where config-report depends on it:

- `Expression` is 1 to 4,096 characters (`ValidationException` past that); `Limit` 0 to 100, 0 meaning
  the default of 100 (`ValidationException` outside); pages continue with `NextToken`
  (`InvalidNextTokenException` for a token it did not issue);
- each result is a JSON string holding only the selected properties; `tags` is a list of
  `{"key", "value", "tag": "key=value"}` objects;
- only resources with a current configuration item are found: a deleted resource is simply absent
  (`BatchGetResourceConfig` likewise "does not return results for deleted resources", and it returns
  no tags at all, which is why config-report uses the advanced query).

`ListDiscoveredResources`, as the API reference describes it: `resourceType` required; at most 20
`resourceIds` (`ValidationException`), not together with `resourceName`; `limit` 0 to 100, 0 meaning 100
(`InvalidLimitException` above); `includeDeletedResources` adds the resources Config recorded as deleted,
each with its `resourceDeletionTime`; a region without any configuration recorder answers
`NoAvailableConfigurationRecorderException`. A resource the recorder does not record (a type it
excludes, a global IAM type outside the region that records them) is in neither answer. The error
wordings are moto's where moto has the error, else the API reference's description.

The query language is real SQL in AWS; the simulator understands the one shape config-report sends,
`SELECT <properties> WHERE resourceId IN ('id', ...)`, and answers any other expression with
`InvalidExpressionException`, so a change of query shows at once in the tests.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from config_report.simulated.compliance import ConfigApiError, Params, Response, _constraint, _page

MAX_EXPRESSION = 4096
MAX_LIMIT = 100
DISCOVERED_MAX_IDS = 20
_PROPERTIES = ("resourceId", "resourceType", "tags", "accountId", "awsRegion")
_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>[\w\s,]+?)\s+WHERE\s+resourceId\s+IN\s*\((?P<ids>.*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_QUOTED = re.compile(r"\s*'((?:[^']|'')*)'\s*(,|$)")


@dataclass(frozen=True, slots=True)
class ConfigurationItem:
    """The current configuration item of one resource: who it is and its tags."""

    resource_type: str
    resource_id: str
    tags: Mapping[str, str] = field(default_factory=dict)


class Inventory:
    """The configuration items of one account and region (thread-safe)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], ConfigurationItem] = {}
        self._deleted: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()

    def put(self, item: ConfigurationItem) -> None:
        """Record (or replace) a resource's current configuration item."""
        key = (item.resource_type, item.resource_id)
        with self._lock:
            self._items[key] = item
            self._deleted.pop(key, None)

    def delete(self, resource_type: str, resource_id: str, *, at: datetime) -> None:
        """The resource was deleted at `at`: no current configuration item, a record of its deletion."""
        key = (resource_type, resource_id)
        with self._lock:
            self._items.pop(key, None)
            self._deleted[key] = at

    def discovered(
        self, resource_type: str, resource_ids: set[str], *, include_deleted: bool
    ) -> list[tuple[str, datetime | None]]:
        """(resource ID, deletion time or None) of the type's resources, all or those in `resource_ids`."""
        with self._lock:
            found: dict[str, datetime | None] = {
                rid: None for kind, rid in self._items if kind == resource_type
            }
            if include_deleted:
                found |= {rid: at for (kind, rid), at in self._deleted.items() if kind == resource_type}
        return sorted((rid, at) for rid, at in found.items() if not resource_ids or rid in resource_ids)

    def with_ids(self, resource_ids: set[str]) -> list[ConfigurationItem]:
        """The items whose resource ID is one of `resource_ids`, in a stable order."""
        with self._lock:
            return sorted(
                (i for i in self._items.values() if i.resource_id in resource_ids),
                key=lambda i: (i.resource_type, i.resource_id),
            )


class InventoryApi:
    """The two inventory reads over one account and region (snake_case method names)."""

    ACTIONS = ("select_resource_config", "list_discovered_resources")

    def __init__(self, inventory: Inventory, account_id: str, region: str, *, recording: bool) -> None:
        self._inventory = inventory
        self._account_id = account_id
        self._region = region
        self._recording = recording

    def select_resource_config(self, params: Params) -> Response:
        """SelectResourceConfig: the current items whose IDs the query names."""
        return select_resource_config(self._inventory, self._account_id, self._region, params)

    def list_discovered_resources(self, params: Params) -> Response:
        """ListDiscoveredResources: one type's resources, with the deleted ones on request."""
        return list_discovered_resources(self._inventory, params, recording=self._recording)


def select_resource_config(inventory: Inventory, account_id: str, region: str, params: Params) -> Response:
    """Answer `SelectResourceConfig` over one account and region's inventory."""
    expression = checked_expression(params)
    limit = _limit(params.get("Limit"))
    fields, ids = _parse(expression)
    items = inventory.with_ids(ids)
    page, token = _page(items, params.get("NextToken"), limit)
    response: Response = {
        "Results": [json.dumps(_result(i, fields, account_id, region)) for i in page],
        "QueryInfo": {"SelectFields": [{"Name": name} for name in fields]},
    }
    if token is not None:
        response["NextToken"] = token
    return response


def list_discovered_resources(inventory: Inventory, params: Params, *, recording: bool) -> Response:
    """Answer `ListDiscoveredResources` over one account and region's inventory."""
    limit = params.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit > MAX_LIMIT):
        raise ConfigApiError(
            "InvalidLimitException",
            f"Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value less than "
            f"or equal to {MAX_LIMIT}",
        )
    ids = list(params.get("resourceIds") or [])
    if ids and params.get("resourceName"):
        raise ConfigApiError(
            "ValidationException", "Both Resource ID and Resource Name cannot be specified in the request"
        )
    if len(ids) > DISCOVERED_MAX_IDS:
        raise ConfigApiError(
            "ValidationException",
            f"The specified list had more than {DISCOVERED_MAX_IDS} resource ID's. "
            f"It must have '{DISCOVERED_MAX_IDS}' or less items",
        )
    if not recording:
        raise ConfigApiError(
            "NoAvailableConfigurationRecorderException",
            "There are no configuration recorders available to provide the role needed to describe your "
            "resources. Create a configuration recorder.",
        )
    resource_type = str(params.get("resourceType") or "")
    # The simulator's items carry no names: a name matches none of them.
    found = (
        []
        if params.get("resourceName")
        else inventory.discovered(
            resource_type, set(ids), include_deleted=bool(params.get("includeDeletedResources"))
        )
    )
    page, token = _page(found, params.get("nextToken"), limit or MAX_LIMIT)
    response: Response = {"resourceIdentifiers": [_identifier(resource_type, rid, at) for rid, at in page]}
    if token is not None:
        response["nextToken"] = token
    return response


def _identifier(resource_type: str, resource_id: str, deleted_at: datetime | None) -> dict[str, Any]:
    identifier: dict[str, Any] = {"resourceType": resource_type, "resourceId": resource_id}
    if deleted_at is not None:
        identifier["resourceDeletionTime"] = deleted_at.timestamp()
    return identifier


def checked_expression(params: Params) -> str:
    """The request's `Expression`, 1 to 4,096 characters (`ValidationException` otherwise)."""
    expression = params.get("Expression")
    if not isinstance(expression, str) or not expression:
        raise _constraint("expression", expression, "Member must have length greater than or equal to 1")
    if len(expression) > MAX_EXPRESSION:
        raise _constraint(
            "expression", "…", f"Member must have length less than or equal to {MAX_EXPRESSION}"
        )
    return expression


def _limit(value: object) -> int:
    if value is None or value == 0:
        return MAX_LIMIT
    if not isinstance(value, int) or not 0 <= value <= MAX_LIMIT:
        raise _constraint("limit", value, f"Member must have value less than or equal to {MAX_LIMIT}")
    return value


def _parse(expression: str) -> tuple[tuple[str, ...], set[str]]:
    match = _QUERY.match(expression)
    if not match:
        raise _invalid(expression)
    fields = tuple(f.strip() for f in match["fields"].split(","))
    if not fields or any(f not in _PROPERTIES for f in fields):
        raise _invalid(expression)
    ids: set[str] = set()
    rest = match["ids"]
    while rest.strip():
        quoted = _QUOTED.match(rest)
        if not quoted:
            raise _invalid(expression)
        ids.add(quoted.group(1).replace("''", "'"))
        rest = rest[quoted.end() :]
    if not ids:
        raise _invalid(expression)
    return fields, ids


def _invalid(expression: str) -> ConfigApiError:
    return ConfigApiError("InvalidExpressionException", f"Invalid expression: {expression[:200]}")


def _result(item: ConfigurationItem, fields: tuple[str, ...], account_id: str, region: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "resourceId": item.resource_id,
        "resourceType": item.resource_type,
        "accountId": account_id,
        "awsRegion": region,
        "tags": [{"key": k, "value": v, "tag": f"{k}={v}"} for k, v in sorted(item.tags.items())],
    }
    return {name: values[name] for name in fields}
