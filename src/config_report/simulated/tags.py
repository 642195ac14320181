"""Tags in the simulated organization: who owns each failing resource, and each account.

Every non-compliant resource the seeder created gets a configuration item in the simulated Config
inventory (read with `SelectResourceConfig`), with tags drawn deterministically from its ID:

- half carry `Owner`, one in ten the lower-case `team` (a key later in the default owner-key list);
- one in five has tags, but no owner key (`CostCenter` only), and one in ten has no tags at all;
- one in ten was deleted since it was evaluated: no current item, and Config's record of the deletion
  (`ListDiscoveredResources` with deleted resources).

Where it is recorded, as AWS records it: a regional resource in its own region; a global one (IAM) in
the account's first region only, the one region whose recorder includes global types (its findings in
the other regions have no item there); a resource of a type the account's recorder leaves out
(`NOT_RECORDED_TYPES`, which a periodic rule still evaluates) nowhere.

Account-level findings (`AWS::::Account`) are about the account itself, which Config keeps no
configuration item for. Accounts carry Organizations tags: most an `Owner`, sandboxes a lower-case
`owner`, and a few none; the hostile sandbox's owner starts with `=`, so the report must keep it text.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from config_report.domain.model import GLOBAL_RESOURCE_TYPES, Finding, ResourceRecord
from config_report.simulated import _moto
from config_report.simulated.inventory import ConfigurationItem

if TYPE_CHECKING:
    from config_report.simulated.seed import SeededOrganization
    from config_report.simulated.server import SimulatedOrganization

ACCOUNT_RESOURCE = "AWS::::Account"
HOSTILE_OWNER = '=HYPERLINK("http://evil.example","owner")'
TEAMS = (  # the owners of the seeded resources; each account names its team's leads
    "payments-team",
    "platform-team",
    "data-team",
    "identity-team",
    "search-team",
    "mobile-team",
)

ResourceKey = tuple[str, str, str, str]  # account ID, region, resource type, resource ID
# How long ago the seeder's deleted resources were deleted.
DELETED_AGO = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class SeededResource:
    """What a correct report says of one failing resource's record: its tags, or why it has none."""

    record: ResourceRecord
    tags: Mapping[str, str] = field(default_factory=dict)
    deleted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SeededTags:
    """The tags the seeder gave: per failing resource (by the finding's own region), per account."""

    resources: Mapping[ResourceKey, SeededResource] = field(default_factory=dict)
    accounts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def resource_tags(account_id: str, resource_id: str) -> dict[str, str] | None:
    """The tags of one failing resource; None when it has been deleted."""
    draw = zlib.crc32(f"{account_id}/{resource_id}".encode()) % 10
    team = TEAMS[zlib.crc32(resource_id.encode()) % len(TEAMS)]
    if draw < 5:
        return {"Owner": team, "CostCenter": "cc-1042"}
    if draw == 5:
        return {"team": team}
    if draw in (6, 7):
        return {"CostCenter": "cc-2077"}
    if draw == 8:
        return {}
    return None


def account_tags(index: int, name: str, ou: str, hostile: bool) -> dict[str, str]:
    """The Organizations tags of the account at position `index` of the seeded organization."""
    if hostile:
        return {"owner": HOSTILE_OWNER}
    if ou == "Sandbox":
        return {"owner": name.removeprefix("sandbox-")}
    if index % 7 == 4:
        return {}  # nobody wrote the owner down
    return {"Owner": f"{TEAMS[index % len(TEAMS)]}-leads", "Environment": ou.rsplit("/", 1)[-1]}


def seed_tags(
    sim: SimulatedOrganization,
    seeded: SeededOrganization,
    hostile_name: str,
    *,
    not_recorded: Mapping[str, frozenset[str]],
    now: datetime,
) -> SeededOrganization:
    """Give each failing resource its configuration item and each account its tags; say what was given.

    `not_recorded` maps an account to the resource types its recorder leaves out.
    """
    findings = [f for f in seeded.findings if f.resource_type != ACCOUNT_RESOURCE]
    for f in findings:
        _record(f, seeded.regions[0], not_recorded.get(f.account_id, frozenset()), now)
    # Config's deletion record of a global resource is read where the account's global resources are
    # recorded, which the reader learns from the ones it finds there.
    records_global = {
        f.account_id
        for f in findings
        if f.resource_type in GLOBAL_RESOURCE_TYPES
        and f.resource_type not in not_recorded.get(f.account_id, frozenset())
        and resource_tags(f.account_id, f.resource_id) is not None
    }
    resources = {
        (f.account_id, f.region, f.resource_type, f.resource_id): _expected(
            f, not_recorded.get(f.account_id, frozenset()), f.account_id in records_global, now
        )
        for f in findings
    }
    org = sim.client("organizations", region="us-east-1", account_id=seeded.management_account_id)
    accounts: dict[str, Mapping[str, str]] = {}
    for index, account in enumerate(seeded.accounts + seeded.suspended_accounts):
        tags = account_tags(index, account.name, account.ou, account.name == hostile_name)
        accounts[account.id] = tags
        if tags:
            org.tag_resource(ResourceId=account.id, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return replace(seeded, tags=SeededTags(resources=resources, accounts=accounts))


def _record(finding: Finding, home: str, not_recorded: frozenset[str], now: datetime) -> None:
    """Put the finding's resource in the inventory of the region that records it, or its deletion."""
    if finding.resource_type in not_recorded:
        return
    region = home if finding.resource_type in GLOBAL_RESOURCE_TYPES else finding.region
    inventory = _moto.inventory(finding.account_id, region)
    tags = resource_tags(finding.account_id, finding.resource_id)
    if tags is None:
        inventory.delete(finding.resource_type, finding.resource_id, at=now - DELETED_AGO)
    else:
        inventory.put(ConfigurationItem(finding.resource_type, finding.resource_id, tags))


def _expected(
    finding: Finding, not_recorded: frozenset[str], records_global: bool, now: datetime
) -> SeededResource:
    if finding.resource_type in not_recorded:
        return SeededResource(ResourceRecord.NOT_RECORDED)
    tags = resource_tags(finding.account_id, finding.resource_id)
    if tags is not None:
        return SeededResource(ResourceRecord.RECORDED, tags)
    if finding.resource_type in GLOBAL_RESOURCE_TYPES and not records_global:
        return SeededResource(ResourceRecord.NOT_RECORDED)
    return SeededResource(ResourceRecord.DELETED, deleted_at=now - DELETED_AGO)
