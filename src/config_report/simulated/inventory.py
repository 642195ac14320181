"""What AWS Config knows about resources: current configuration items with their tags, and the
advanced query (`SelectResourceConfig`) that reads them. moto 5.2.1 answers that action only with
canned results registered beforehand, so the simulator supplies it.

Faithful to the API reference where config-report depends on it:

- `Expression` is 1 to 4,096 characters (`ValidationException` past that); `Limit` 0 to 100, 0 meaning
  the default of 100 (`ValidationException` outside); pages continue with `NextToken`
  (`InvalidNextTokenException` for a token it did not issue);
- each result is a JSON string holding only the selected properties; `tags` is a list of
  `{"key", "value", "tag": "key=value"}` objects;
- only resources with a current configuration item are found: a deleted resource is simply absent
  (`BatchGetResourceConfig` likewise "does not return results for deleted resources", and it returns
  no tags at all, which is why config-report uses the advanced query).

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
from typing import Any

from config_report.simulated.compliance import ConfigApiError, Params, Response, _constraint, _page

MAX_EXPRESSION = 4096
MAX_LIMIT = 100
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
        self._lock = threading.Lock()

    def put(self, item: ConfigurationItem) -> None:
        """Record (or replace) a resource's current configuration item."""
        with self._lock:
            self._items[(item.resource_type, item.resource_id)] = item

    def delete(self, resource_type: str, resource_id: str) -> None:
        """The resource was deleted: Config keeps no current configuration item for it."""
        with self._lock:
            self._items.pop((resource_type, resource_id), None)

    def with_ids(self, resource_ids: set[str]) -> list[ConfigurationItem]:
        """The items whose resource ID is one of `resource_ids`, in a stable order."""
        with self._lock:
            return sorted(
                (i for i in self._items.values() if i.resource_id in resource_ids),
                key=lambda i: (i.resource_type, i.resource_id),
            )


def select_resource_config(inventory: Inventory, account_id: str, region: str, params: Params) -> Response:
    """Answer `SelectResourceConfig` over one account and region's inventory."""
    expression = params.get("Expression")
    if not isinstance(expression, str) or not expression:
        raise _constraint("expression", expression, "Member must have length greater than or equal to 1")
    if len(expression) > MAX_EXPRESSION:
        raise _constraint(
            "expression", "…", f"Member must have length less than or equal to {MAX_EXPRESSION}"
        )
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
