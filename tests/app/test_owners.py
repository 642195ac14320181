"""Owners end to end: every finding of the published workbook names its owner and where it came from,
and the Summary has its tables by owner and by OU."""

from __future__ import annotations

from itertools import takewhile
from typing import Any

import pytest

from config_report.domain.model import ResourceRecord
from config_report.domain.owners import ACCOUNT_RESOURCE, owner_from
from config_report.simulated import SeededOrganization, SimulatedOrganization
from config_report.simulated.tags import HOSTILE_OWNER
from runner import Run, run_cli

KEYS = ("Owner", "owner", "Team", "team")


@pytest.fixture(scope="module")
def owners_run(simulated_org: SimulatedOrganization) -> Run:
    return run_cli(simulated_org, "run")


def expected_owner(
    seeded: SeededOrganization, account_id: str, region: str, kind: str, rid: str
) -> tuple[str, str]:
    account_owner = owner_from(seeded.tags.accounts.get(account_id, {}), KEYS)
    if kind == ACCOUNT_RESOURCE:
        return (account_owner, "account tag") if account_owner else ("", "none")
    seeded_resource = seeded.tags.resources[(account_id, region, kind, rid)]
    owner = owner_from(seeded_resource.tags, KEYS)
    if owner:
        return owner, "resource tag"
    why = ""
    if seeded_resource.record is ResourceRecord.DELETED:
        assert seeded_resource.deleted_at is not None
        why = f" (resource deleted on {seeded_resource.deleted_at:%Y-%m-%d})"
    elif seeded_resource.record is ResourceRecord.NOT_RECORDED:
        why = " (not recorded: AWS Config holds no configuration item for it)"
    return (account_owner, "account tag" + why) if account_owner else ("", "none" + why)


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
    assert any("resource deleted on" in s for _, s in actual.values())
    assert any("not recorded" in s for _, s in actual.values())
    assert HOSTILE_OWNER in {o for o, _ in actual.values()}, "an owner that looks like a formula stays text"


def test_summary_has_by_owner_and_by_ou_tables(simulated_org: SimulatedOrganization, owners_run: Run) -> None:
    seeded = simulated_org.seeded
    summary = owners_run.sheet("Summary")
    titles = [row[0] for row in summary]
    by_ou_at = titles.index("By OU")
    assert summary[by_ou_at][1:3] == ["Non-compliant resources", "Accounts"]
    assert summary[by_ou_at][4] == "Compliant rules"
    ou_rows = {row[0]: row for row in _table(summary, "By OU")}
    ous = {a.ou for a in seeded.accounts}
    assert set(ou_rows) == ous
    for ou in ous:
        members = [a.id for a in seeded.accounts if a.ou == ou]
        assert ou_rows[ou][1] == len({f.resource for f in seeded.findings if f.account_id in members})
        assert ou_rows[ou][2] == len(members)
    owners = _table(summary, "By owner")
    headline = next(row[1] for row in summary if row[0] == "Non-compliant resources")
    assert str(owners[-1][0]).startswith("other "), "more than ten owners: the rest are one row"
    assert sum(row[1] for row in owners) == headline, "the owners' table sums to the headline"


def _table(summary: list[list[Any]], title: str) -> list[list[Any]]:
    """A Summary table's rows: they end at the first row without an account count."""
    at = [row[0] for row in summary].index(title)
    return list(takewhile(lambda row: len(row) > 2 and isinstance(row[2], float), summary[at + 1 :]))
