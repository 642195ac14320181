"""Owners: who should act on each finding, from the resource's tags or else its account's.

Resource tags are read through AWS Config itself, so the spoke role needs no per-service read
permission: an advanced query (`SelectResourceConfig`) per batch of failing resources,
`SELECT resourceId, resourceType, tags WHERE resourceId IN (...)`. `BatchGetResourceConfig` would be
the obvious call, but AWS filters every tag out of its answer. A resource with a non-compliant
evaluation but no current configuration item has been deleted since it was evaluated; its row says so.

When no owner tag is on the resource, the owner is the account's, from its Organizations tags, read
once per account per run through the org role (`ListTagsForResource`). Which tag keys mean "owner"
is the `CONFIG_REPORT_OWNER_TAG_KEYS` setting, in order of preference.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config_report.aws.session import describe_error
from config_report.domain.model import (
    Account,
    AccountScan,
    Compliance,
    Finding,
    GroupFigures,
    Owner,
    OwnerSource,
    Report,
)

DEFAULT_OWNER_TAG_KEYS = ("Owner", "owner", "Team", "team")

# Config resource types that are no recorded resource: the finding is about the account itself.
_ACCOUNT_RESOURCE = "AWS::::Account"
# SelectResourceConfig: an expression of at most 4,096 characters, pages of at most 100 results.
MAX_EXPRESSION = 4096
MAX_IDS_PER_QUERY = 100
_PAGE_SIZE = 100
_SELECT = "SELECT resourceId, resourceType, tags WHERE resourceId IN ({ids})"

ResourceKey = tuple[str, str]  # resource type, resource ID
Tags = Mapping[str, str]


def owner_from(tags: Tags, keys: Sequence[str]) -> str:
    """The value of the first owner key (in `keys` order) that `tags` carries with a value; else ''."""
    for key in keys:
        value = tags.get(key, "").strip()
        if value:
            return value
    return ""


# --- resource tags, through AWS Config -----------------------------------------------------------------


def resource_queries(resource_ids: Iterable[str]) -> Iterator[str]:
    """Advanced queries covering `resource_ids`, each within the expression and batch limits."""
    batch: list[str] = []
    for resource_id in sorted(set(resource_ids)):
        quoted = "'" + resource_id.replace("'", "''") + "'"
        if batch and (
            len(batch) == MAX_IDS_PER_QUERY
            or len(_SELECT.format(ids=", ".join([*batch, quoted]))) > MAX_EXPRESSION
        ):
            yield _SELECT.format(ids=", ".join(batch))
            batch = []
        batch.append(quoted)
    if batch:
        yield _SELECT.format(ids=", ".join(batch))


@dataclass(frozen=True, slots=True)
class OwnedFindings:
    """Findings with their resource owners, or the error that kept Config from naming them."""

    findings: tuple[Finding, ...]
    error: ClientError | BotoCoreError | None = None


def owned_findings(config_client: Any, findings: Sequence[Finding], keys: Sequence[str]) -> OwnedFindings:
    """`findings` with their resource owners read through Config; when Config refuses, each says why."""
    if not findings:
        return OwnedFindings(tuple(findings))
    try:
        tags = read_resource_tags(config_client, findings)
    except (ClientError, BotoCoreError) as exc:
        unread = Owner("", OwnerSource.UNREAD, detail=describe_error(exc))
        return OwnedFindings(tuple(replace(f, owner=unread) for f in findings), exc)
    return OwnedFindings(with_resource_owners(findings, tags, keys))


def read_resource_tags(config_client: Any, findings: Sequence[Finding]) -> dict[ResourceKey, dict[str, str]]:
    """The current tags of every resource the findings name that Config still holds an item for.

    A resource absent from the answer has no configuration item: deleted since it was evaluated.
    """
    ids = (f.resource_id for f in findings if f.resource_type != _ACCOUNT_RESOURCE and f.resource_id)
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


def with_resource_owners(
    findings: Sequence[Finding], tags: Mapping[ResourceKey, Tags], keys: Sequence[str]
) -> tuple[Finding, ...]:
    """`findings` with the owner their resource's tags name, or no owner yet (`NONE`) and whether
    the resource is gone; the account's owner fills the gaps later (`with_account_owners`)."""
    return tuple(replace(f, owner=_resource_owner(f, tags, keys)) for f in findings)


def _resource_owner(finding: Finding, tags: Mapping[ResourceKey, Tags], keys: Sequence[str]) -> Owner:
    if finding.resource_type == _ACCOUNT_RESOURCE:
        return Owner("", OwnerSource.NONE)
    found = tags.get((finding.resource_type, finding.resource_id))
    if found is None:
        return Owner("", OwnerSource.NONE, resource_deleted=True)
    name = owner_from(found, keys)
    return Owner(name, OwnerSource.RESOURCE_TAG) if name else Owner("", OwnerSource.NONE)


# --- account tags, through Organizations -----------------------------------------------------------------


# Account tags read at once. One call per account, one after the other, made the scan wait 100 s
# at 1,000 accounts and 100 ms per call before its first unit; Organizations is a single global
# endpoint with a modest request rate, so a few readers, not the scan's whole concurrency.
ACCOUNT_TAG_READERS = 8


def read_account_owners(
    org_client: Any, accounts: Sequence[Account], keys: Sequence[str], *, readers: int = 1
) -> tuple[Account, ...]:
    """`accounts` (in their order) with the owner their Organizations tags name.

    One `ListTagsForResource` per account, `readers` of them at once; the first failure is raised.
    """

    def owned(account: Account) -> Account:
        return replace(account, owner=owner_from(_account_tags(org_client, account.id), keys))

    if readers <= 1 or len(accounts) <= 1:
        return tuple(owned(a) for a in accounts)
    with ThreadPoolExecutor(max_workers=min(readers, len(accounts)), thread_name_prefix="owners") as pool:
        return tuple(pool.map(owned, accounts))


def _account_tags(org_client: Any, account_id: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for page in org_client.get_paginator("list_tags_for_resource").paginate(ResourceId=account_id):
        tags.update({t["Key"]: t.get("Value", "") for t in page.get("Tags", [])})
    return tags


def with_account_owners(report: Report) -> Report:
    """`report` with each finding that has no resource owner given its account's owner, if any."""
    return replace(report, scans=tuple(_fill(scan) for scan in report.scans))


def _fill(scan: AccountScan) -> AccountScan:
    owner = scan.account.owner
    if not owner:
        return scan
    return replace(scan, findings=tuple(_fallback(f, owner) for f in scan.findings))


def _fallback(finding: Finding, account_owner: str) -> Finding:
    current = finding.owner
    if current is not None and current.source in (OwnerSource.RESOURCE_TAG, OwnerSource.UNREAD):
        return finding  # an unread owner stays visible as such: the report is incomplete there
    deleted = current is not None and current.resource_deleted
    return replace(finding, owner=Owner(account_owner, OwnerSource.ACCOUNT_TAG, resource_deleted=deleted))


# --- the Summary's tables ------------------------------------------------------------------------------

NO_OWNER = "(no owner)"


def by_owner(report: Report, *, top: int) -> tuple[GroupFigures, ...]:
    """Per owner (the `top` with most non-compliant resources): resources, the accounts they are in,
    and the share of compliant rules in those accounts."""
    findings: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings():
        if finding.accepted is None:
            name = finding.owner.name if finding.owner and finding.owner.name else NO_OWNER
            findings[name].append(finding)
    scans = {s.account.id: s for s in report.scans}
    rows = [
        _group(name, items, [scans[a] for a in sorted({f.account_id for f in items})])
        for name, items in findings.items()
    ]
    return _top(rows, top)


def by_ou(report: Report, *, top: int) -> tuple[GroupFigures, ...]:
    """Per OU (the `top` with most non-compliant resources): resources, accounts in scope, and the share
    of compliant rules, so production OUs can be told from sandboxes at a glance."""
    scans: dict[str, list[AccountScan]] = defaultdict(list)
    for scan in report.scans:
        scans[scan.account.ou].append(scan)
    rows = [
        _group(ou, [f for s in members for f in s.findings if f.accepted is None], members)
        for ou, members in scans.items()
    ]
    return _top(rows, top)


def _group(name: str, findings: Sequence[Finding], scans: Sequence[AccountScan]) -> GroupFigures:
    states = Counter(r.compliance for s in scans for r in s.rules)
    judged = states[Compliance.COMPLIANT] + states[Compliance.NON_COMPLIANT]
    return GroupFigures(name, len(findings), len(scans), states[Compliance.COMPLIANT], judged)


def _top(rows: list[GroupFigures], top: int) -> tuple[GroupFigures, ...]:
    return tuple(sorted(rows, key=lambda g: (-g.noncompliant_resources, g.name))[:top])
