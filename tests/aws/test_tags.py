"""Reading the tags that name owners: resources' through AWS Config (advanced queries within Config's
limits), accounts' through Organizations, several at once.

The simulated Config answers `SelectResourceConfig` from an inventory of configuration items the
seeder tagged (`config_report.simulated.tags`).
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from config_report.aws.tags import (
    MAX_EXPRESSION,
    MAX_IDS_PER_LISTING,
    MAX_IDS_PER_QUERY,
    read_account_owners,
    read_deletions,
    read_resource_tags,
    resource_queries,
)
from config_report.domain.model import Account, ResourceRecord
from config_report.domain.owners import owner_from
from config_report.errors import DiscoveryError
from config_report.simulated import SeededOrganization, SimulatedOrganization
from config_report.simulated.seed import NOT_RECORDED_IN_PRODUCTION
from config_report.simulated.tags import SeededResource

KEYS = ("Owner", "owner", "Team", "team")
QUERY = "SELECT resourceId WHERE resourceId IN ('x')"


def test_queries_stay_within_config_limits_and_cover_every_resource_once() -> None:
    ids = [
        f"arn:aws:elasticloadbalancing:eu-west-1:012345678901:loadbalancer/app/a-{n}/{n:040d}"
        for n in range(250)
    ]
    ids += [f"vol-{n:017x}" for n in range(250)] + ["it's-quoted"]

    queries = list(resource_queries(ids))

    assert all(len(q) <= MAX_EXPRESSION for q in queries)
    found = [m.replace("''", "'") for q in queries for m in re.findall(r"'((?:[^']|'')*)'", q)]
    assert sorted(found) == sorted(ids)
    assert all(len(re.findall(r"'(?:[^']|'')*'", q)) <= MAX_IDS_PER_QUERY for q in queries)


# --- the simulated Config -----------------------------------------------------------------------------


def _failing(seeded: SeededOrganization) -> tuple[str, str, list[tuple[str, str]]]:
    """An account and region with failing resources, and those resources' (type, ID)."""
    payments = seeded.account_named("acme-payments-prod")
    region = seeded.regions[0]
    keys = sorted(
        {
            (f.resource_type, f.resource_id)
            for f in seeded.findings
            if (f.account_id, f.region) == (payments.id, region)
        }
    )
    return payments.id, region, keys


def _records(
    seeded: SeededOrganization, account_id: str, region: str
) -> dict[tuple[str, str], SeededResource]:
    return {
        (kind, rid): record
        for (account, where, kind, rid), record in seeded.tags.resources.items()
        if (account, where) == (account_id, region)
    }


def test_config_returns_the_tags_of_the_resources_it_holds_here_and_nothing_for_the_others(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    account_id, region, keys = _failing(seeded)
    findings = [f for f in seeded.findings if (f.account_id, f.region) == (account_id, region)]
    client = simulated_org.client("config", region=region, account_id=account_id)
    records = _records(seeded, account_id, region)

    tags = read_resource_tags(client, findings)

    assert tags == {key: dict(r.tags) for key, r in records.items() if r.record is ResourceRecord.RECORDED}
    assert ResourceRecord.DELETED in {r.record for r in records.values()}
    assert len(keys) > 100, "more resources than one query or page may hold"


def test_config_names_the_deleted_resources_and_when_and_neither_the_current_nor_the_unrecorded_ones(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    account_id, region, _ = _failing(seeded)
    client = simulated_org.client("config", region=region, account_id=account_id)
    records = _records(seeded, account_id, region)
    deleted = read_deletions(client, records)

    assert deleted == {key: r.deleted_at for key, r in records.items() if r.record is ResourceRecord.DELETED}
    assert len(records) > MAX_IDS_PER_LISTING, "more resources than one listing may name"


def test_a_type_the_recorder_leaves_out_has_no_item_and_no_deletion_record(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    keys = [f for f in seeded.findings if f.resource_type in NOT_RECORDED_IN_PRODUCTION]
    (account_id, region) = (keys[0].account_id, keys[0].region)
    here = [f for f in keys if (f.account_id, f.region) == (account_id, region)]
    client = simulated_org.client("config", region=region, account_id=account_id)

    assert read_resource_tags(client, here) == {}
    assert read_deletions(client, [(f.resource_type, f.resource_id) for f in here]) == {}
    assert {
        seeded.tags.resources[(f.account_id, f.region, f.resource_type, f.resource_id)].record for f in keys
    } == {ResourceRecord.NOT_RECORDED}


def test_a_global_resource_has_an_item_only_in_the_region_that_records_global_types(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    payments = seeded.account_named("acme-payments-prod")
    home, elsewhere = seeded.regions[0], seeded.regions[1]
    users = [
        f for f in seeded.findings if f.account_id == payments.id and f.resource_type == "AWS::IAM::User"
    ]
    recorded = {
        (f.resource_type, f.resource_id)
        for f in users
        if seeded.tags.resources[(f.account_id, f.region, f.resource_type, f.resource_id)].record
        is ResourceRecord.RECORDED
    }

    def found_in(region: str) -> set[tuple[str, str]]:
        client = simulated_org.client("config", region=region, account_id=payments.id)
        return set(read_resource_tags(client, [f for f in users if f.region == region]))

    assert recorded
    assert found_in(home) == recorded
    assert found_in(elsewhere) == set()
    assert {f.resource for f in users if f.region == elsewhere} == {
        f.resource for f in users if f.region == home
    }


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"Expression": QUERY, "Limit": 101}, "ValidationException"),
        ({"Expression": QUERY.replace("'x'", "'x', " * 1000 + "'y'")}, "ValidationException"),
        ({"Expression": "SELECT * WHERE resourceType = 'AWS::S3::Bucket'"}, "InvalidExpressionException"),
        ({"Expression": QUERY, "NextToken": "forged"}, "InvalidNextTokenException"),
    ],
    ids=["limit-past-100", "expression-past-4096", "unsupported-query", "forged-token"],
)  # fmt: skip
def test_config_refuses_what_aws_refuses(
    simulated_org: SimulatedOrganization, arguments: dict[str, object], code: str
) -> None:
    client = simulated_org.client("config", account_id=simulated_org.seeded.hub.account_id)

    with pytest.raises(ClientError) as raised:
        client.select_resource_config(**arguments)

    assert raised.value.response["Error"]["Code"] == code


# --- account owners ----------------------------------------------------------------------------------------


def _meeting_point(client: Any, parties: int) -> threading.Barrier:
    """The first `parties` tag reads of `client` wait for each other: only reads made at once get past."""
    barrier = threading.Barrier(parties, timeout=60)  # the timeout only ends a broken test
    waiting = iter(range(parties))
    lock = threading.Lock()

    def meet(**_: Any) -> None:
        with lock:
            first = next(waiting, None) is not None
        if first:
            barrier.wait()

    client.meta.events.register("before-call.organizations.ListTagsForResource", meet)
    return barrier


def test_account_owners_are_read_several_at_once_and_keep_the_accounts_order(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    org = simulated_org.client("organizations", account_id=seeded.management_account_id)
    accounts = tuple(reversed(seeded.accounts))
    _meeting_point(org, parties=3)  # one reader at a time would wait here until the timeout

    owned = read_account_owners(org, accounts, KEYS, readers=3)

    assert [a.id for a in owned] == [a.id for a in accounts]
    assert [a.owner for a in owned] == [
        owner_from(seeded.tags.accounts.get(a.id, {}), KEYS) for a in accounts
    ]
    assert any(a.owner for a in owned)


def test_an_account_tag_read_that_fails_is_raised_not_skipped_when_several_run_at_once(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    org = simulated_org.client("organizations", account_id=seeded.management_account_id)
    gone = Account(id="000000000000", name="closed-since-discovery", ou="Root", email="")
    accounts = (*seeded.accounts[:3], gone, *seeded.accounts[3:])

    with pytest.raises(DiscoveryError, match="TargetNotFoundException") as raised:
        read_account_owners(org, accounts, KEYS, readers=4)

    assert "organizations:ListTagsForResource" in str(raised.value)
