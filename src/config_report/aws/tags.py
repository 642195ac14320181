"""The tags that name owners: each failing resource's, through AWS Config, and each account's.

Resource tags are read through AWS Config itself, so the spoke role needs no per-service read
permission: an advanced query (`SelectResourceConfig`) per batch of failing resources,
`SELECT resourceId, resourceType, tags WHERE resourceId IN (...)`. `BatchGetResourceConfig` would be
the obvious call, but AWS filters every tag out of its answer.

A failing resource the query does not find has no current configuration item. Only Config can say
whether it was deleted: `ListDiscoveredResources` with `includeDeletedResources`, per type and 20 IDs,
only for the resources not found (usually none). Otherwise Config never recorded it here: a type the
recorder leaves out (a periodic rule still evaluates it), or a name or ARN a custom rule reported.
Global types (IAM) are recorded in one region: they are looked up there only (a region where the query
found some of the account's global resources), and `domain.owners.with_global_owners` gives what was
read there to the account's other regions. A spoke role without `ListDiscoveredResources` (one
deployed before this version) costs only the distinction: those rows say it could not be read, and
the run warns once with the fix.

When no owner tag is on the resource, the owner is the account's, from its Organizations tags, read
once per account per run through the org role (`ListTagsForResource`). Which owner the tags name is
decided by `domain.owners`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from config_report.aws.errors import AwsError, describe_error, error_code
from config_report.domain.model import GLOBAL_RESOURCE_TYPES, Account, Finding, Owner, OwnerSource
from config_report.domain.owners import (
    ACCOUNT_RESOURCE,
    ResourceKey,
    ResourceRecords,
    owner_from,
    with_resource_owners,
)
from config_report.errors import DiscoveryError
from config_report.logs import warn_once

# SelectResourceConfig: an expression of at most 4,096 characters, pages of at most 100 results.
MAX_EXPRESSION = 4096
MAX_IDS_PER_QUERY = 100
_PAGE_SIZE = 100
_SELECT = "SELECT resourceId, resourceType, tags WHERE resourceId IN ({ids})"
# ListDiscoveredResources: at most 20 resource IDs per call, pages of at most 100.
MAX_IDS_PER_LISTING = 20
UNCHECKED_FIX = (
    "grant the spoke role config:ListDiscoveredResources (re-apply deploy/terraform's spoke-read-role); "
    "until then a failing resource without a configuration item cannot be told deleted from not recorded"
)


# --- resource tags, through AWS Config -----------------------------------------------------------------


def resource_queries(resource_ids: Iterable[str], *, select: str = _SELECT) -> Iterator[str]:
    """Advanced queries covering `resource_ids`, each within the expression and batch limits.

    `select` is the query with an `{ids}` place for the quoted IDs (the aggregator's names accounts
    and regions too).
    """
    batch: list[str] = []
    for resource_id in sorted(set(resource_ids)):
        quoted = "'" + resource_id.replace("'", "''") + "'"
        if batch and (
            len(batch) == MAX_IDS_PER_QUERY
            or len(select.format(ids=", ".join([*batch, quoted]))) > MAX_EXPRESSION
        ):
            yield select.format(ids=", ".join(batch))
            batch = []
        batch.append(quoted)
    if batch:
        yield select.format(ids=", ".join(batch))


@dataclass(frozen=True, slots=True)
class OwnedFindings:
    """Findings with their resource owners, or the error that kept Config from naming them."""

    findings: tuple[Finding, ...]
    error: Exception | None = None


def owned_findings(config_client: Any, findings: Sequence[Finding], keys: Sequence[str]) -> OwnedFindings:
    """`findings` with their resource owners read through Config; when Config refuses, each says why."""
    if not findings:
        return OwnedFindings(tuple(findings))
    try:
        tags = read_resource_tags(config_client, findings)
    except AwsError as exc:
        unread = Owner("", OwnerSource.UNREAD, detail=describe_error(exc))
        return OwnedFindings(tuple(replace(f, owner=unread) for f in findings), exc)
    return OwnedFindings(with_resource_owners(findings, _records(config_client, findings, tags), keys))


def _records(
    config_client: Any, findings: Sequence[Finding], tags: dict[ResourceKey, dict[str, str]]
) -> ResourceRecords:
    """The tags found, and for the resources without an item, whether Config recorded their deletion."""
    records_global_types = any(kind in GLOBAL_RESOURCE_TYPES for kind, _ in tags)
    missing = {
        (f.resource_type, f.resource_id)
        for f in findings
        if f.resource_type != ACCOUNT_RESOURCE
        and f.resource_id
        and (f.resource_type, f.resource_id) not in tags
        and (records_global_types or f.resource_type not in GLOBAL_RESOURCE_TYPES)
    }
    try:
        deleted = read_deletions(config_client, missing)
    except AwsError as exc:
        _warn_unchecked(exc)
        return ResourceRecords(tags, unchecked=frozenset(missing))
    return ResourceRecords(tags, deleted)


def read_deletions(config_client: Any, resources: Iterable[ResourceKey]) -> dict[ResourceKey, datetime]:
    """When Config recorded the deletion of each of `resources` it recorded as deleted."""
    by_type: dict[str, list[str]] = {}
    for kind, resource_id in sorted(set(resources)):
        by_type.setdefault(kind, []).append(resource_id)
    deleted: dict[ResourceKey, datetime] = {}
    listing = config_client.get_paginator("list_discovered_resources")
    for kind, ids in by_type.items():
        for start in range(0, len(ids), MAX_IDS_PER_LISTING):
            pages = listing.paginate(
                resourceType=kind,
                resourceIds=ids[start : start + MAX_IDS_PER_LISTING],
                includeDeletedResources=True,
                PaginationConfig={"PageSize": _PAGE_SIZE},
            )
            for page in pages:
                for item in page.get("resourceIdentifiers", []):
                    if item.get("resourceDeletionTime") is not None:
                        deleted[(kind, item["resourceId"])] = item["resourceDeletionTime"]
    return deleted


def _warn_unchecked(exc: Exception) -> None:
    """One warning per error code: every region with a deleted resource would say the same."""
    warn_once(
        "owners.deletions_unchecked",
        key=(error_code(exc) or type(exc).__name__,),
        action="config:ListDiscoveredResources",
        reason=describe_error(exc),
        fix=UNCHECKED_FIX,
    )


def read_resource_tags(config_client: Any, findings: Sequence[Finding]) -> dict[ResourceKey, dict[str, str]]:
    """The current tags of every resource the findings name that Config holds a current item for here
    (a resource absent from the answer was deleted, or is not recorded here: `read_deletions` tells)."""
    ids = (f.resource_id for f in findings if f.resource_type != ACCOUNT_RESOURCE and f.resource_id)
    found: dict[ResourceKey, dict[str, str]] = {}
    for expression in resource_queries(ids):
        # The paginator stops a NextToken that comes back unchanged (PaginationError) instead of looping.
        pages = config_client.get_paginator("select_resource_config").paginate(
            Expression=expression, PaginationConfig={"PageSize": _PAGE_SIZE}
        )
        for page in pages:
            for line in page.get("Results", []):
                item = json.loads(line)
                tags = {t["key"]: t.get("value", "") for t in item.get("tags", [])}
                found[(item["resourceType"], item["resourceId"])] = tags
    return found


# --- account tags, through Organizations -----------------------------------------------------------------


# Account tags read at once. One call per account, one after the other, made the scan wait 100 s
# at 1,000 accounts and 100 ms per call before its first unit; Organizations is a single global
# endpoint with a modest request rate, so a few readers, not the scan's whole concurrency.
ACCOUNT_TAG_READERS = 8


def read_account_owners(
    org_client: Any, accounts: Sequence[Account], keys: Sequence[str], *, readers: int = 1
) -> tuple[Account, ...]:
    """`accounts` (in their order) with the owner their Organizations tags name.

    One `ListTagsForResource` per account, `readers` of them at once; the first failure raises
    `DiscoveryError` naming the permission the org role lacks.
    """

    def owned(account: Account) -> Account:
        return replace(account, owner=owner_from(_account_tags(org_client, account.id), keys))

    try:
        if readers <= 1 or len(accounts) <= 1:
            return tuple(owned(a) for a in accounts)
        with ThreadPoolExecutor(max_workers=min(readers, len(accounts)), thread_name_prefix="owners") as pool:
            return tuple(pool.map(owned, accounts))
    except AwsError as exc:
        raise DiscoveryError(
            f"cannot read the accounts' tags ({describe_error(exc)}); the org role needs "
            "organizations:ListTagsForResource on the organization's accounts"
        ) from exc


def _account_tags(org_client: Any, account_id: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for page in org_client.get_paginator("list_tags_for_resource").paginate(ResourceId=account_id):
        tags.update({t["Key"]: t.get("Value", "") for t in page.get("Tags", [])})
    return tags
