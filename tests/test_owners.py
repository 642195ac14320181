"""Owners: who should act on each finding, from the resource's tags through AWS Config, else its account's.

The simulated Config answers `SelectResourceConfig` from an inventory of configuration items the
seeder tagged (`config_report.simulated.tags`); the end-to-end test reads the published workbook.
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from itertools import takewhile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from config_report.aws.tags import (
    MAX_EXPRESSION,
    MAX_IDS_PER_QUERY,
    NO_OWNER,
    by_ou,
    by_owner,
    owner_from,
    read_account_owners,
    read_resource_tags,
    resource_queries,
    with_account_owners,
)
from config_report.domain.model import (
    Account,
    AccountScan,
    Compliance,
    Owner,
    OwnerSource,
    Report,
    RuleResult,
)
from config_report.simulated import SeededOrganization, SimulatedOrganization
from config_report.simulated.tags import ACCOUNT_RESOURCE, HOSTILE_OWNER
from factories import PROD, SANDBOX, prod_scan, run_info, sandbox_scan
from runner import Run, run_cli

KEYS = ("Owner", "owner", "Team", "team")
QUERY = "SELECT resourceId WHERE resourceId IN ('x')"


def test_the_first_owner_key_in_the_setting_order_wins_and_blank_values_do_not_count() -> None:
    assert owner_from({"team": "b", "Owner": "a"}, KEYS) == "a"
    assert owner_from({"Owner": "  ", "team": "b"}, KEYS) == "b"
    assert owner_from({"CostCenter": "x"}, KEYS) == ""


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


def test_config_returns_the_tags_of_resources_it_holds_and_nothing_for_deleted_ones(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    account_id, region, keys = _failing(seeded)
    findings = [f for f in seeded.findings if (f.account_id, f.region) == (account_id, region)]
    client = simulated_org.client("config", region=region, account_id=account_id)

    tags = read_resource_tags(client, findings)

    expected = {
        (t, i): dict(seeded.tags.resources[(account_id, region, t, i)] or {})
        for t, i in keys
        if t != ACCOUNT_RESOURCE and seeded.tags.resources[(account_id, region, t, i)] is not None
    }
    assert tags == expected
    assert any(
        seeded.tags.resources[(account_id, region, t, i)] is None for t, i in keys if t != ACCOUNT_RESOURCE
    )
    assert len(keys) > 100, "more resources than one query or page may hold"


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


# --- account owners and the Summary's tables ---------------------------------------------------------------


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

    with pytest.raises(ClientError) as raised:
        read_account_owners(org, accounts, KEYS, readers=4)

    assert raised.value.response["Error"]["Code"] == "TargetNotFoundException"


def _report_with_owners() -> Report:
    prod = prod_scan()
    prod = replace(
        prod,
        account=replace(PROD, owner="payments-leads"),
        findings=(
            replace(prod.findings[0], owner=Owner("web-team", OwnerSource.RESOURCE_TAG)),
            replace(prod.findings[1], owner=Owner("", OwnerSource.NONE, resource_deleted=True)),
            replace(prod.findings[2], owner=Owner("", OwnerSource.NONE)),
        ),
    )
    return Report(run=run_info(), scans=(prod, sandbox_scan()))


def test_a_finding_without_a_resource_owner_gets_the_accounts_and_a_deleted_resource_says_so() -> None:
    report = with_account_owners(_report_with_owners())

    owners = [f.owner for f in report.findings()]
    assert owners[0] == Owner("web-team", OwnerSource.RESOURCE_TAG)
    assert owners[1] == Owner("payments-leads", OwnerSource.ACCOUNT_TAG, resource_deleted=True)
    assert owners[1] is not None
    assert owners[1].source_label() == "account tag (resource deleted: no configuration item)"
    assert owners[2] == Owner("payments-leads", OwnerSource.ACCOUNT_TAG)
    assert owners[3] is None  # the sandbox has no account owner, and its finding was never looked up


def test_by_owner_counts_resources_accounts_and_the_compliant_share_of_their_accounts() -> None:
    report = with_account_owners(_report_with_owners())

    rows = {g.name: g for g in by_owner(report, top=10)}

    assert (rows["payments-leads"].noncompliant_resources, rows["payments-leads"].accounts) == (2, 1)
    assert (rows["web-team"].noncompliant_resources, rows[NO_OWNER].noncompliant_resources) == (1, 1)
    # PROD: one compliant and two non-compliant rules (the fourth has insufficient data).
    assert rows["payments-leads"].compliant_share == pytest.approx(1 / 3)


def test_by_ou_tells_production_from_sandboxes() -> None:
    report = Report(
        run=run_info(),
        scans=(
            prod_scan(),
            AccountScan(
                account=SANDBOX,
                rules=(RuleResult(SANDBOX.id, "eu-west-1", "r", Compliance.NOT_APPLICABLE),),
            ),
        ),
    )

    rows = by_ou(report, top=10)

    assert [(g.name, g.noncompliant_resources, g.accounts) for g in rows] == [
        ("Workloads/Prod", 3, 1),
        ("Sandbox", 0, 1),
    ]
    assert rows[1].compliant_share is None


# --- end to end --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def owners_run(simulated_org: SimulatedOrganization) -> Run:
    return run_cli(simulated_org, "run")


def expected_owner(
    seeded: SeededOrganization, account_id: str, region: str, kind: str, rid: str
) -> tuple[str, str]:
    account_owner = owner_from(seeded.tags.accounts.get(account_id, {}), KEYS)
    if kind == ACCOUNT_RESOURCE:
        return (account_owner, "account tag") if account_owner else ("", "none")
    tags = seeded.tags.resources[(account_id, region, kind, rid)]
    deleted = " (resource deleted: no configuration item)" if tags is None else ""
    owner = owner_from(tags or {}, KEYS)
    if owner:
        return owner, "resource tag"
    return (account_owner, "account tag" + deleted) if account_owner else ("", "none" + deleted)


def test_every_finding_names_its_owner_and_where_it_came_from(
    simulated_org: SimulatedOrganization, owners_run: Run
) -> None:
    seeded = simulated_org.seeded
    assert owners_run.returncode == 0, owners_run.stderr[-3000:]
    rows = owners_run.sheet("Non-compliant resources")
    header = rows[0]
    owner, source = header.index("Owner"), header.index("Owner Source")
    assert header[owner - 1] == "Accepted"
    actual = {(r[0], r[2], r[4], r[5]): (r[owner], r[source]) for r in rows[1:]}
    expected = {
        (f.account_id, f.region, f.resource_type, f.resource_id): expected_owner(
            seeded, f.account_id, f.region, f.resource_type, f.resource_id
        )
        for f in seeded.findings
    }
    assert actual == expected
    sources = {s.split(" (")[0] for _, s in actual.values()}
    assert sources == {"resource tag", "account tag", "none"}
    assert any("resource deleted" in s for _, s in actual.values())
    assert HOSTILE_OWNER in {o for o, _ in actual.values()}, "an owner that looks like a formula stays text"


def test_summary_has_by_owner_and_by_ou_tables(simulated_org: SimulatedOrganization, owners_run: Run) -> None:
    seeded = simulated_org.seeded
    summary = owners_run.sheet("Summary")
    titles = [row[0] for row in summary]
    by_ou_at = titles.index("By OU")
    assert summary[by_ou_at][1:4] == ["Non-compliant resources", "Accounts", "Compliant rules"]
    # The table ends at its first row without an account count (the Summary goes on below it).
    table = takewhile(lambda row: len(row) > 2 and isinstance(row[2], float), summary[by_ou_at + 1 :])
    ou_rows = {row[0]: row for row in table}
    ous = {a.ou for a in seeded.accounts}
    assert set(ou_rows) == ous
    for ou in ous:
        members = [a.id for a in seeded.accounts if a.ou == ou]
        assert ou_rows[ou][1] == sum(1 for f in seeded.findings if f.account_id in members)
        assert ou_rows[ou][2] == len(members)
    assert "By owner" in titles
