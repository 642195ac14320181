"""Three weekly runs of the CLI against the simulated organization, with known changes between them.

Between week 1 and week 2: two resources are fixed, one new resource breaks, an organization rule is
redeployed under a new generated suffix, one account's spoke role is denied and another account leaves
the organization. In week 3 the denied account is readable again. The runs' clock is set with
CONFIG_REPORT_TESTING_NOW (honoured against the simulator only; see config_report.clock).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from config_report.domain.model import Finding
from config_report.simulated import SimulatedOrganization, evolve
from headers import CHANGES_HEADER
from runner import Run, run_cli

WEEKS = ("2026-11-16T09:00:00Z", "2026-11-23T09:00:00Z", "2026-11-30T09:00:00Z")
DAY_1, DAY_2, DAY_3 = date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30)
REGIONS = ("eu-west-1", "us-east-1")
HISTORY_KEY = "aws-config-reports/history/runs.jsonl"
FINDINGS = "Non-compliant resources"


@dataclass(frozen=True)
class Scenario:
    """The three runs and what was changed between them."""

    weeks: tuple[Run, Run, Run]
    fixed: tuple[Finding, ...]
    broken: Finding
    redeployed: tuple[str, str, str]  # account, region, normalized rule name
    denied: str
    left: str
    history: bytes


def key(row: list[Any]) -> tuple[str, str, str, str, str]:
    """A resources-sheet or Changes-sheet row's finding (account, region, rule, type, ID)."""
    return (row[0], row[2], row[3], row[4], row[5])


def finding_key(f: Finding) -> tuple[str, str, str, str, str]:
    return (f.account_id, f.region, f.rule_name, f.resource_type, f.resource_id)


def week_env(week: int) -> dict[str, str]:
    return {"CONFIG_REPORT_TESTING_NOW": WEEKS[week]}


@pytest.fixture(scope="module")
def scenario(simulated_org: SimulatedOrganization) -> Iterator[Scenario]:
    sim = simulated_org
    sim.reset()
    seeded = sim.seed(accounts=8, suspended=0, regions=REGIONS)
    try:
        by_name = {a.name: a.id for a in seeded.accounts}
        prod, network = by_name["acme-payments-prod"], by_name["acme-network-hub"]
        denied, left = by_name["acme-audit"], by_name["acme-log-archive"]
        # An organization rule in the prod account: deployed before week 1, redeployed before week 2.
        rule = next(
            f.rule_name
            for f in seeded.findings
            if f.account_id == prod and f.rule_name != "encrypted-volumes"
        )
        evolve.redeploy_rule(sim, prod, REGIONS[0], rule, f"OrgConfigRule-{rule}-ab12cd")
        week1 = run_cli(sim, "run", **week_env(0))

        network_findings = [f for f in seeded.findings if f.account_id == network]
        fixed = tuple(network_findings[:2])
        evolve.fix(fixed, at=datetime.now(UTC))
        broken = evolve.break_resource(
            replace(network_findings[0], resource_id="broken-in-week-2"), at=datetime.now(UTC)
        )
        evolve.redeploy_rule(
            sim, prod, REGIONS[0], f"OrgConfigRule-{rule}-ab12cd", f"OrgConfigRule-{rule}-zz98yy"
        )
        evolve.leave_organization(sim, left)
        sim.faults.configure(deny_assume_role_into=[denied])
        week2 = run_cli(sim, "run", **week_env(1))

        sim.faults.reset()
        week3 = run_cli(sim, "run", **week_env(2))
        s3 = sim.client("s3")
        history = s3.get_object(Bucket=seeded.hub.report_bucket, Key=HISTORY_KEY)["Body"].read()
        yield Scenario((week1, week2, week3), fixed, broken, (prod, REGIONS[0], rule), denied, left, history)
    finally:
        sim.faults.reset()
        sim.reset()
        sim.seed()


def summary(run: Run) -> dict[str, list[Any]]:
    return {str(row[0]): row for row in run.sheet("Summary") if row and row[0]}


def test_every_week_publishes_with_the_exit_code_its_coverage_deserves(scenario: Scenario) -> None:
    codes = [run.returncode for run in scenario.weeks]

    assert codes == [0, 3, 0], [run.stderr[-2000:] for run in scenario.weeks]


def test_the_first_run_says_there_is_no_baseline_and_dates_every_finding_today(scenario: Scenario) -> None:
    week1 = scenario.weeks[0]
    rows = week1.sheet(FINDINGS)[1:]

    assert any(
        line.startswith("No baseline: first run: no earlier report under s3://") for line in summary(week1)
    )
    assert rows
    assert {(row[9], row[10], row[11]) for row in rows} == {("", DAY_1_CELL, 0.0)}
    assert week1.sheet("Changes") == [CHANGES_HEADER]


DAY_1_CELL = DAY_1
DAY_2_CELL = DAY_2


def test_week_two_lists_the_new_and_the_resolved_findings_and_nothing_else(scenario: Scenario) -> None:
    changes = scenario.weeks[1].sheet("Changes")

    assert changes[0] == CHANGES_HEADER
    listed = {(row[0], key(row[1:]), row[12], row[13]) for row in changes[1:]}
    assert listed == {
        ("NEW", finding_key(scenario.broken), DAY_2_CELL, 0.0),
        *(("RESOLVED", finding_key(f), DAY_1_CELL, 7.0) for f in scenario.fixed),
    }


def test_week_two_carries_first_seen_and_age_for_every_persisting_finding(scenario: Scenario) -> None:
    rows = scenario.weeks[1].sheet(FINDINGS)[1:]
    persisting = [row for row in rows if key(row) != finding_key(scenario.broken)]

    assert persisting
    assert {(row[9], row[10], row[11]) for row in persisting} == {("PERSISTING", DAY_1_CELL, 7.0)}
    (new,) = [row for row in rows if key(row) == finding_key(scenario.broken)]
    assert (new[9], new[10], new[11]) == ("NEW", DAY_2_CELL, 0.0)


def test_a_rule_redeployed_under_a_new_suffix_keeps_its_findings_persisting(scenario: Scenario) -> None:
    account, region, rule = scenario.redeployed
    rows = [r for r in scenario.weeks[1].sheet(FINDINGS)[1:] if (r[0], r[2]) == (account, region)]
    redeployed = [r for r in rows if r[3] == f"OrgConfigRule-{rule}-zz98yy"]

    assert redeployed
    assert {(r[9], r[10]) for r in redeployed} == {("PERSISTING", DAY_1_CELL)}


def test_a_denied_or_departed_account_is_never_counted_as_resolved(scenario: Scenario) -> None:
    week1_accounts = {row[0] for row in scenario.weeks[0].sheet(FINDINGS)[1:]}
    week2 = scenario.weeks[1]
    lines = summary(week2)

    assert {scenario.denied, scenario.left} <= week1_accounts
    assert {row[1] for row in week2.sheet("Changes")[1:]}.isdisjoint({scenario.denied, scenario.left})
    assert lines["Resolved failing evaluations"][1] == 2.0
    assert lines["New failing evaluations"][1] == 1.0
    # The denied account's week-1 findings are named as not compared, never resolved.
    unread = [r for r in scenario.weeks[0].sheet(FINDINGS)[1:] if r[0] == scenario.denied]
    assert lines["Not compared: the previous run's findings"][1] == len(unread) > 0
    (named,) = [line for line in lines if line.startswith("Not read this run: ")]
    assert scenario.denied in named
    (departed,) = [line for line in lines if line.startswith("Accounts that left")]
    assert scenario.left in departed
    assert lines["Accounts that joined: none."]


def test_an_account_not_read_shows_not_read_never_zero(scenario: Scenario) -> None:
    accounts = scenario.weeks[1].sheet("Accounts")
    header = accounts[0]
    (denied,) = [row for row in accounts[1:] if row[0] == scenario.denied]

    assert denied[header.index("Scan Status")] == "ACCESS_DENIED"
    assert denied[header.index("Non-compliant Rules")] == "not read"
    assert denied[header.index("Non-compliant Resources")] == "not read"


def test_an_account_readable_again_is_not_compared_but_keeps_its_first_seen_date(scenario: Scenario) -> None:
    rows = scenario.weeks[2].sheet(FINDINGS)[1:]
    returned = [r for r in rows if r[0] == scenario.denied]
    others = [r for r in rows if r[0] != scenario.denied and key(r) != finding_key(scenario.broken)]
    (broken,) = [r for r in rows if key(r) == finding_key(scenario.broken)]

    assert returned
    assert {(r[9], r[10], r[11]) for r in returned} == {("", DAY_1_CELL, 14.0)}
    assert {(r[9], r[10], r[11]) for r in others} == {("PERSISTING", DAY_1_CELL, 14.0)}
    assert (broken[9], broken[10], broken[11]) == ("PERSISTING", DAY_2_CELL, 7.0)
    assert scenario.weeks[2].sheet("Changes") == [CHANGES_HEADER]
    assert summary(scenario.weeks[2])["Not compared: this run's findings"][1] == len(returned)


def headline(run: Run) -> dict[str, float]:
    figures = json.loads(gzip.decompress(run.file(".snapshot.json.gz")))["figures"]
    return {name: float(value) for name, value in figures.items() if isinstance(value, int)}


def test_each_headline_figure_shows_its_change_since_the_previous_run(scenario: Scenario) -> None:
    for before, after in zip(scenario.weeks, scenario.weeks[1:], strict=False):
        was, now, lines = headline(before), headline(after), summary(after)
        assert lines["Headline figures"][3] == f"Since {before_day(before)}"
        # What counts findings changes like for like: over places read in both runs only.
        assert lines["Non-compliant resources"][1:4:2] == [
            now["noncompliant_resources"],
            lines["Newly non-compliant resources"][1] - lines["Resources no longer non-compliant"][1],
        ]
        assert lines["Failing evaluations"][1:4:2] == [
            now["failing_evaluations"],
            lines["New failing evaluations"][1] - lines["Resolved failing evaluations"][1],
        ]
        assert lines["Accounts in scope"][3] == now["accounts"] - was["accounts"]
        assert (
            lines["Could not be read (access denied or error)"][3]
            == now["coverage_gaps"] - was["coverage_gaps"]
        )
        assert lines["Read"][3] == now["regions_scanned"] - was["regions_scanned"]
    assert summary(scenario.weeks[0])["Non-compliant resources"][3] == ""


def test_a_place_not_read_this_week_does_not_move_the_headline(scenario: Scenario) -> None:
    # Week 2: the denied account's resources are missing from the total but not from the change.
    was, now, lines = headline(scenario.weeks[0]), headline(scenario.weeks[1]), summary(scenario.weeks[1])
    plain = now["noncompliant_resources"] - was["noncompliant_resources"]

    assert lines["Newly non-compliant resources"][1] == 1  # the resource that broke in week 2
    assert 1 <= lines["Resources no longer non-compliant"][1] <= 2  # the two fixed findings' resources
    assert plain < lines["Non-compliant resources"][3]


def before_day(run: Run) -> str:
    started = json.loads(gzip.decompress(run.file(".snapshot.json.gz")))["run"]["started_at"]
    return f"{datetime.fromisoformat(started):%d %b}"


def test_the_trend_has_one_point_per_week_with_its_figures(scenario: Scenario) -> None:
    rows = scenario.weeks[2].sheet("Summary")
    (start,) = [n for n, row in enumerate(rows) if str(row[0]).startswith("Trend (last 12 weeks)")]
    points = [row[:3] for row in rows[start + 1 : start + 4]]
    expected = [
        [
            f"{week} ({day:%d %b %Y})",
            headline(run)["noncompliant_resources"],
            headline(run)["regions_scanned"] / headline(run)["regions_total"],
        ]
        for week, day, run in zip(
            ("2026-W47", "2026-W48", "2026-W49"), (DAY_1, DAY_2, DAY_3), scenario.weeks, strict=True
        )
    ]

    assert points == expected
    assert not str(rows[start + 4][0]).startswith("2026-W")


def test_the_history_object_has_one_line_per_run_with_its_headline_figures(scenario: Scenario) -> None:
    lines = [json.loads(line) for line in scenario.history.decode().splitlines()]

    assert [line["date"] for line in lines] == ["2026-11-16", "2026-11-23", "2026-11-30"]
    assert [line["noncompliant_resources"] for line in lines] == [
        headline(run)["noncompliant_resources"] for run in scenario.weeks
    ]
    assert [(line["new_findings"], line["resolved_findings"]) for line in lines] == [
        (None, None),
        (1, 2),
        (0, 0),
    ]
    assert all(line["schema"] == "config-report/history/v1" for line in lines)
