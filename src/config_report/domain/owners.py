"""Owners: who should act on each finding, decided from the tags the readers found.

A finding's owner is the first owner tag (`CONFIG_REPORT_OWNER_TAG_KEYS`, in order of preference) on
its resource, else on its account (Organizations tags). A finding whose resource Config no longer holds
an item for was deleted since it was evaluated, and says so. The tags themselves are read by
`aws.tags`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from config_report.domain.model import AccountScan, Finding, Owner, OwnerSource, Report

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


def with_resource_owners(
    findings: Sequence[Finding], tags: Mapping[ResourceKey, Tags], keys: Sequence[str]
) -> tuple[Finding, ...]:
    """`findings` with the owner their resource's tags name, or no owner yet (`NONE`) and whether
    the resource is gone; the account's owner fills the gaps later (`with_account_owners`)."""
    return tuple(replace(f, owner=_resource_owner(f, tags, keys)) for f in findings)


def _resource_owner(finding: Finding, tags: Mapping[ResourceKey, Tags], keys: Sequence[str]) -> Owner:
    if finding.resource_type == ACCOUNT_RESOURCE:
        return Owner("", OwnerSource.NONE)
    found = tags.get((finding.resource_type, finding.resource_id))
    if found is None:
        return Owner("", OwnerSource.NONE, resource_deleted=True)
    name = owner_from(found, keys)
    return Owner(name, OwnerSource.RESOURCE_TAG) if name else Owner("", OwnerSource.NONE)


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
