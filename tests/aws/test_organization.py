"""Discovery: the OU tree walked several calls at a time, finding what a walk one call at a time finds.

The simulated organization gets a tree as large organizations have them: a level wider than one page
of OUs (Organizations answers 20 per page), an OU holding more than one page of accounts, and a branch
five OUs deep (the most AWS allows). The walk is checked against the tree as it was built.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from config_report.aws.organization import list_active_accounts, organizations_client
from config_report.aws.session import connect_hub
from config_report.domain.model import Account
from config_report.domain.scope import AccountFilter
from config_report.settings import load_settings
from config_report.simulated import SimulatedOrganization

WIDE = 45  # OUs under one parent: three pages
CROWDED = 25  # accounts in one OU: two pages
DEEP = 5  # OUs nested under the root


@dataclass(frozen=True)
class Tree:
    """The OUs and accounts added under the seeded organization's root."""

    root: str
    wide: str  # the OU with WIDE child OUs
    children: tuple[str, ...]  # the wide OU's children
    crowded: str  # the OU with CROWDED accounts
    paths: dict[str, tuple[str, tuple[str, ...]]]  # account ID -> (OU path, OU IDs from the root)


@pytest.fixture(scope="module")
def tree(simulated_org: SimulatedOrganization) -> Iterator[Tree]:
    simulated_org.reset()
    seeded = simulated_org.seed()
    org = simulated_org.client("organizations", account_id=seeded.management_account_id)
    root = org.list_roots()["Roots"][0]["Id"]
    paths: dict[str, tuple[str, tuple[str, ...]]] = {}

    def unit(parent: str, name: str) -> str:
        ou_id: str = org.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"]
        return ou_id

    def account(name: str, parent: str, path: str, ids: tuple[str, ...]) -> None:
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        org.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=parent)
        paths[status["AccountId"]] = (path, ids)

    wide = unit(root, "Wide")
    children = []
    for number in range(WIDE):
        child = unit(wide, f"Team-{number:02d}")
        children.append(child)
        account(f"team-{number:02d}", child, f"Wide/Team-{number:02d}", (root, wide, child))
    crowded = unit(root, "Crowded")
    for number in range(CROWDED):
        account(f"crowded-{number:02d}", crowded, "Crowded", (root, crowded))
    parent, names, ids = root, [], [root]
    for level in range(1, DEEP + 1):
        parent = unit(parent, f"L{level}")
        names.append(f"L{level}")
        ids.append(parent)
        account(f"deep-{level}", parent, "/".join(names), tuple(ids))
    yield Tree(root, wide, tuple(children), crowded, paths)
    simulated_org.reset()
    simulated_org.seed()


@pytest.fixture
def organizations(simulated_org: SimulatedOrganization, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Organizations as the job calls it: through the org role, with the job's retries."""
    for name, value in simulated_org.client_env().items():
        monkeypatch.setenv(name, value)
    settings = load_settings({})
    return organizations_client(connect_hub(settings.client_config()), settings.scan_config())


def _by_id(accounts: list[Account]) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {a.id: (a.ou, a.ou_ids) for a in accounts}


def test_the_concurrent_walk_finds_every_account_with_its_ou_path_as_one_call_at_a_time_does(
    simulated_org: SimulatedOrganization, tree: Tree, organizations: Any
) -> None:

    walked = list_active_accounts(organizations, AccountFilter(), readers=8)
    one_at_a_time = list_active_accounts(organizations, AccountFilter(), readers=1)

    assert walked == one_at_a_time
    found = _by_id(walked)
    assert {i: found[i] for i in tree.paths} == tree.paths
    # The seeded accounts are still there, where they were.
    assert {a.id for a in simulated_org.seeded.accounts} <= set(found)
    assert [a.id for a in walked] == sorted(found)


def test_organizations_answers_the_listings_in_pages_of_twenty_as_aws_does(
    simulated_org: SimulatedOrganization, tree: Tree
) -> None:
    org = simulated_org.client("organizations", account_id=simulated_org.seeded.management_account_id)

    units = org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=tree.wide)
    accounts = org.get_paginator("list_accounts_for_parent").paginate(ParentId=tree.crowded)

    assert [len(page["OrganizationalUnits"]) for page in units] == [20, 20, 5]
    assert [len(page["Accounts"]) for page in accounts] == [20, 5]


def test_the_units_of_one_level_are_listed_at_once_never_more_than_the_readers(
    simulated_org: SimulatedOrganization, tree: Tree, organizations: Any
) -> None:
    readers = 4
    # The first `readers` listings of the wide OU's children wait for each other: a walk that asked
    # one unit after another would stop here (the barrier's timeout only ends a broken test).
    barrier = threading.Barrier(readers, timeout=60)
    waiting = iter(range(readers))
    lock = threading.Lock()
    in_flight, most = 0, 0

    def meet(params: dict[str, Any], **_: Any) -> None:
        with lock:
            first = params.get("ParentId") in tree.children and next(waiting, None) is not None
        if first:
            barrier.wait()

    def started(**_: Any) -> None:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)

    def ended(**_: Any) -> None:
        nonlocal in_flight
        with lock:
            in_flight -= 1

    organizations.meta.events.register("before-parameter-build.organizations.*", started)
    organizations.meta.events.register("before-parameter-build.organizations.*", meet)
    organizations.meta.events.register("after-call.organizations.*", ended)

    walked = list_active_accounts(organizations, AccountFilter(), readers=readers)

    assert {a.id for a in walked} >= set(tree.paths)
    assert most == readers


def test_a_throttled_listing_is_retried_and_the_walk_loses_nothing(
    simulated_org: SimulatedOrganization, tree: Tree, organizations: Any
) -> None:
    expected = list_active_accounts(organizations, AccountFilter(), readers=1)
    simulated_org.faults.reset()
    # Throttled mid-walk, in the middle of the wide level.
    simulated_org.faults.configure(organizations_throttle_after=10, organizations_throttles=5)
    try:
        walked = list_active_accounts(organizations, AccountFilter(), readers=8)
        assert simulated_org.faults.counts.organizations_throttled == 5
    finally:
        simulated_org.faults.reset()

    assert walked == expected
