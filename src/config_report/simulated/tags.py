"""Tags in the simulated organization: who owns each failing resource, and each account.

Every non-compliant resource the seeder created gets a configuration item in the simulated Config
inventory (read with `SelectResourceConfig`), with tags drawn deterministically from its ID:

- half carry `Owner`, one in ten the lower-case `team` (a key later in the default owner-key list);
- one in five has tags, but no owner key (`CostCenter` only), and one in ten has no tags at all;
- one in ten was deleted since it was evaluated: it has no configuration item at all.

Account-level findings (`AWS::::Account`) are about the account itself, which Config keeps no
configuration item for. Accounts carry Organizations tags: most an `Owner`, sandboxes a lower-case
`owner`, and a few none; the hostile sandbox's owner starts with `=`, so the report must keep it text.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from config_report.simulated import _moto
from config_report.simulated.inventory import ConfigurationItem

if TYPE_CHECKING:
    from config_report.simulated.seed import SeededOrganization
    from config_report.simulated.server import SimulatedOrganization

ACCOUNT_RESOURCE = "AWS::::Account"
HOSTILE_OWNER = '=HYPERLINK("http://evil.example","owner")'
_TEAMS = ("payments-team", "platform-team", "data-team", "identity-team", "search-team", "mobile-team")

ResourceKey = tuple[str, str, str, str]  # account ID, region, resource type, resource ID


@dataclass(frozen=True, slots=True)
class SeededTags:
    """The tags the seeder gave: per failing resource (None: deleted, no configuration item), per account."""

    resources: Mapping[ResourceKey, Mapping[str, str] | None] = field(default_factory=dict)
    accounts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def resource_tags(account_id: str, resource_id: str) -> dict[str, str] | None:
    """The tags of one failing resource; None when it has been deleted."""
    draw = zlib.crc32(f"{account_id}/{resource_id}".encode()) % 10
    team = _TEAMS[zlib.crc32(resource_id.encode()) % len(_TEAMS)]
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
    return {"Owner": f"{_TEAMS[index % len(_TEAMS)]}-leads", "Environment": ou.rsplit("/", 1)[-1]}


def seed_tags(
    sim: SimulatedOrganization, seeded: SeededOrganization, hostile_name: str
) -> SeededOrganization:
    """Give each failing resource its configuration item and each account its tags; say what was given."""
    resources: dict[ResourceKey, Mapping[str, str] | None] = {}
    for f in seeded.findings:
        if f.resource_type == ACCOUNT_RESOURCE:
            continue
        tags = resource_tags(f.account_id, f.resource_id)
        resources[(f.account_id, f.region, f.resource_type, f.resource_id)] = tags
        if tags is not None:
            _moto.inventory(f.account_id, f.region).put(
                ConfigurationItem(f.resource_type, f.resource_id, tags)
            )
    org = sim.client("organizations", region="us-east-1", account_id=seeded.management_account_id)
    accounts: dict[str, Mapping[str, str]] = {}
    for index, account in enumerate(seeded.accounts + seeded.suspended_accounts):
        tags = account_tags(index, account.name, account.ou, account.name == hostile_name)
        accounts[account.id] = tags
        if tags:
            org.tag_resource(ResourceId=account.id, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return replace(seeded, tags=SeededTags(resources=resources, accounts=accounts))
