"""Owners: who should act on each finding, decided from the tags the readers found.

A finding's owner is the first owner tag (`CONFIG_REPORT_OWNER_TAG_KEYS`, in order of preference) on
its resource, else on its account (Organizations tags). A finding whose resource has no current
configuration item says why (`ResourceRecord`): deleted only when Config recorded the deletion, else
not recorded (a type the recorder leaves out, a name or ARN a custom rule reported). A global resource
(IAM) is recorded in one region only; its findings in every other region take what was read there
(`with_global_owners`). The tags themselves are read by `aws.tags`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache

from config_report.domain.model import (
    GLOBAL_RESOURCE_TYPES,
    AccountScan,
    Finding,
    Owner,
    OwnerSource,
    Report,
    Resource,
    ResourceRecord,
)
from config_report.domain.shelved import mapped

ACCOUNT_RESOURCE = "AWS::::Account"
"""The Config resource type of findings about the account itself: no recorded resource, no tags."""

ResourceKey = tuple[str, str]  # resource type, resource ID
Tags = Mapping[str, str]


def owner_from(tags: Tags, keys: Sequence[str]) -> str:
    """The value of the first owner key (in `keys` order) that `tags` carries with a value; else ''."""
    for key in keys:
        value = tags.get(key, "").strip()
        if value:
            return value
    return ""


@dataclass(frozen=True, slots=True)
class ResourceRecords:
    """What AWS Config holds of the failing resources of one account × region."""

    tags: Mapping[ResourceKey, Tags]  # resources with a current configuration item, and their tags
    deleted: Mapping[ResourceKey, datetime] = field(default_factory=dict)  # when Config saw them go
    unchecked: frozenset[ResourceKey] = frozenset()  # no item, and the deletion lookup failed


def with_resource_owners(
    findings: Sequence[Finding], records: ResourceRecords, keys: Sequence[str]
) -> tuple[Finding, ...]:
    """`findings` with the owner their resource's tags name, or no owner yet (`NONE`) and why the
    resource's tags could not name one; the account's owner fills the gaps later (`with_account_owners`)."""
    return tuple(replace(f, owner=_resource_owner(f, records, keys)) for f in findings)


def _resource_owner(finding: Finding, records: ResourceRecords, keys: Sequence[str]) -> Owner:
    if finding.resource_type == ACCOUNT_RESOURCE:
        return shared_owner("", OwnerSource.NONE)
    key = (finding.resource_type, finding.resource_id)
    found = records.tags.get(key)
    if found is not None:
        name = owner_from(found, keys)
        source = OwnerSource.RESOURCE_TAG if name else OwnerSource.NONE
        return shared_owner(name, source, ResourceRecord.RECORDED)
    if key in records.deleted:
        return shared_owner("", OwnerSource.NONE, ResourceRecord.DELETED, deleted_at=records.deleted[key])
    unknown = ResourceRecord.UNCHECKED if key in records.unchecked else ResourceRecord.NOT_RECORDED
    return shared_owner("", OwnerSource.NONE, unknown)


def shared_owner(
    name: str,
    source: OwnerSource,
    record: ResourceRecord | None = None,
    *,
    deleted_at: datetime | None = None,
    detail: str = "",
) -> Owner:
    """An `Owner` of these values, one object shared by every finding it names; an owner holding a
    deletion date or a reason is its resource's own.

    An organization has far fewer owners than findings. Shared, an owner is held once in memory, and
    written once per chunk on the spool and read back once, not once per finding (pickle keeps one
    copy of an object met twice): a finding goes to disk and back in two thirds of the time.
    """
    if deleted_at is None and not detail:
        return _shared(name, source, record)
    return Owner(name, source, record, deleted_at, detail)


@lru_cache(maxsize=4096)
def _shared(name: str, source: OwnerSource, record: ResourceRecord | None) -> Owner:
    return Owner(name, source, record)


# Which of a global resource's findings says the most about it: its tags read, its deletion, the rest.
_RECORD_RANK = {
    ResourceRecord.RECORDED: 3,
    ResourceRecord.DELETED: 2,
    ResourceRecord.UNCHECKED: 1,
    ResourceRecord.NOT_RECORDED: 0,
}


def with_global_owners(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """One account's findings, each global resource's findings all with the owner read where Config
    records that resource (it records global types in one region; elsewhere it holds no item)."""
    best: dict[Resource, tuple[int, Owner]] = {}
    for finding in findings:
        owner = finding.owner
        if finding.resource_type in GLOBAL_RESOURCE_TYPES and owner is not None and owner.record is not None:
            rank = _RECORD_RANK[owner.record]
            if finding.resource not in best or rank > best[finding.resource][0]:
                best[finding.resource] = (rank, owner)
    return tuple(replace(f, owner=best[f.resource][1]) if f.resource in best else f for f in findings)


def with_account_owners(report: Report) -> Report:
    """`report` with each finding that has no resource owner given its account's owner, if any."""
    return replace(report, scans=tuple(_fill(scan) for scan in report.scans))


def _fill(scan: AccountScan) -> AccountScan:
    owner = scan.account.owner
    if not owner:
        return scan
    return replace(scan, findings=mapped(scan.findings, lambda f: _fallback(f, owner)))


def _fallback(finding: Finding, account_owner: str) -> Finding:
    current = finding.owner
    if current is not None and current.source in (OwnerSource.RESOURCE_TAG, OwnerSource.UNREAD):
        return finding  # an unread owner stays visible as such: the report is incomplete there
    if current is None:
        return replace(finding, owner=shared_owner(account_owner, OwnerSource.ACCOUNT_TAG))
    return replace(finding, owner=_renamed(current, account_owner, OwnerSource.ACCOUNT_TAG))


def with_owner_aliases(report: Report, aliases: Mapping[str, str]) -> Report:
    """`report` with every owner named as `aliases` says (a tag value → the team it names), so one team
    is one row of `By owner` whichever tag named it."""
    if not aliases:
        return report
    return replace(report, scans=tuple(_aliased(scan, aliases) for scan in report.scans))


def _aliased(scan: AccountScan, aliases: Mapping[str, str]) -> AccountScan:
    account = replace(scan.account, owner=aliases.get(scan.account.owner, scan.account.owner))
    return replace(scan, account=account, findings=mapped(scan.findings, lambda f: _alias(f, aliases)))


def _alias(finding: Finding, aliases: Mapping[str, str]) -> Finding:
    owner = finding.owner
    if owner is None or owner.name not in aliases:
        return finding
    return replace(finding, owner=_renamed(owner, aliases[owner.name], owner.source))


def _renamed(owner: Owner, name: str, source: OwnerSource) -> Owner:
    """`owner` naming `name`, from `source`, with what it says of its resource."""
    return shared_owner(name, source, owner.record, deleted_at=owner.deleted_at, detail=owner.detail)
