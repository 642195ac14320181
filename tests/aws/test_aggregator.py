"""The aggregator source against the simulated organization's aggregator, with real boto3: what it
reads, the gaps its own health makes, and what a failing call costs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from config_report.aws.aggregator import AggregatorPlan, read_aggregator
from config_report.aws.session import Hub, caller_identity, client_config
from config_report.domain.model import AccountScan, Compliance, CoverageStatus, OwnerSource, ResourceRecord
from config_report.settings import load_settings
from config_report.simulated import SimulatedOrganization
from config_report.simulated.aggregator_seed import AGGREGATION_ERROR, AGGREGATION_ERROR_CODE

# What the aggregator says where the accounts report a state: OUTDATED, with or without stale results.
AGGREGATOR_STATUS = {
    CoverageStatus.OK: CoverageStatus.OK,
    CoverageStatus.CONFIG_NOT_RECORDING: CoverageStatus.CONFIG_NOT_RECORDING,
    CoverageStatus.CONFIG_RECORDER_FAILING: CoverageStatus.CONFIG_NOT_RECORDING,
    CoverageStatus.CONFIG_NOT_ENABLED: CoverageStatus.CONFIG_NOT_ENABLED,
    CoverageStatus.DENIED_BY_SCP: CoverageStatus.CONFIG_NOT_ENABLED,
    CoverageStatus.REGION_NOT_ENABLED: CoverageStatus.CONFIG_NOT_ENABLED,
}

Read = Callable[..., tuple[AccountScan, ...]]
DETAILS = "config:GetAggregateComplianceDetailsByConfigRule"


@pytest.fixture
def read(simulated_org: SimulatedOrganization, monkeypatch: pytest.MonkeyPatch) -> Iterator[Read]:
    """Read the seeded organization's accounts through its aggregator; faults and aggregator reset after."""
    for name, value in simulated_org.client_env().items():
        monkeypatch.setenv(name, value)  # the aggregator's role session finds the simulator as the CLI does

    def reader(
        *, clock: Callable[[], datetime] | None = None, first: int | None = None, **settings: Any
    ) -> tuple[AccountScan, ...]:
        accounts = simulated_org.seeded.accounts[:first]
        return read_aggregator(accounts, plan(simulated_org, clock=clock, **settings))

    yield reader
    simulated_org.faults.reset()
    simulated_org.aggregator.reset()


@pytest.fixture(scope="module")
def whole(simulated_org: SimulatedOrganization) -> tuple[AccountScan, ...]:
    """The healthy aggregator's reading of every account, once for the tests that only look at it."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in simulated_org.client_env().items():
            patch.setenv(name, value)
        return read_aggregator(simulated_org.seeded.accounts, plan(simulated_org, clock=None))


def plan(
    sim: SimulatedOrganization, *, clock: Callable[[], datetime] | None, **overrides: Any
) -> AggregatorPlan:
    aggregator = sim.aggregator
    settings = load_settings(
        {
            "regions": ",".join(sim.seeded.regions),
            "session_name": "aggregator-test",
            "max_attempts": 3,
            "source": "aggregator",
            "aggregator_name": aggregator.name,
            "aggregator_role_arn": aggregator.role_arn,
            "aggregator_region": aggregator.region,
            **overrides,
        }
    )
    sts = sim.client("sts")
    hub = Hub(
        caller_identity(sts),
        session=None,
        sts=sts,
        config=client_config(settings.client_config()),
        region=sim.seeded.hub.region,
    )
    config = settings.aggregator_config()
    assert config is not None
    return AggregatorPlan(hub, settings.scan_config(), config, clock=clock or (lambda: datetime.now(UTC)))


def coverage(scans: tuple[AccountScan, ...]) -> dict[tuple[str, str], Any]:
    return {(c.account_id, c.region): c for s in scans for c in s.coverage}


def evaluations(scans: tuple[AccountScan, ...]) -> set[tuple[str, str, str, str, str]]:
    return {
        (f.account_id, f.region, f.rule_name, f.resource_type, f.resource_id)
        for s in scans
        for f in s.findings
    }


def test_the_aggregator_reports_every_failing_evaluation_and_rule_compliance_the_accounts_hold(
    simulated_org: SimulatedOrganization, whole: tuple[AccountScan, ...]
) -> None:
    seeded = simulated_org.seeded

    scans = whole

    assert [s.account.id for s in scans] == [a.id for a in seeded.accounts]
    assert evaluations(scans) == {
        (f.account_id, f.region, f.rule_name, f.resource_type, f.resource_id) for f in seeded.findings
    }
    judged = (Compliance.COMPLIANT, Compliance.NON_COMPLIANT)
    assert {(r.account_id, r.region, r.rule_name, r.compliance) for s in scans for r in s.rules} == {
        (r.account_id, r.region, r.rule_name, r.compliance) for r in seeded.rules if r.compliance in judged
    }
    counts = {(r.account_id, r.region, r.rule_name): r.noncompliant_resources for s in scans for r in s.rules}
    assert all(
        counts[r.account_id, r.region, r.rule_name] == r.noncompliant_resources
        for r in seeded.rules
        if r.compliance in judged
    )


def test_outdated_sources_are_states_of_the_account_and_read_ones_say_how_fresh_they_are(
    simulated_org: SimulatedOrganization, whole: tuple[AccountScan, ...]
) -> None:
    seeded = simulated_org.seeded

    rows = coverage(whole)

    assert {place: row.status for place, row in rows.items()} == {
        (a.id, r): AGGREGATOR_STATUS[seeded.coverage_status(a.id, r)]
        for a in seeded.accounts
        for r in seeded.regions
    }
    stopped = next(iter(seeded.config_stopped))
    assert "still holds" in rows[stopped].detail
    assert "stale, not reported" in rows[stopped].detail
    read_place = next(p for p, row in rows.items() if row.status is CoverageStatus.OK)
    assert "data as of" in rows[read_place].detail


def test_a_failed_source_is_a_gap_with_awss_error_and_every_other_place_is_read(
    simulated_org: SimulatedOrganization, read: Read
) -> None:
    seeded = simulated_org.seeded
    failed = (seeded.accounts[2].id, seeded.regions[0])
    simulated_org.aggregator.fail(*failed)

    scans = read(first=3)

    rows = coverage(scans)
    assert rows[failed].status is CoverageStatus.ERROR
    assert "FAILED" in rows[failed].detail
    assert f"{AGGREGATION_ERROR_CODE}: {AGGREGATION_ERROR}" in rows[failed].detail
    assert not any(f.account_id == failed[0] and f.region == failed[1] for s in scans for f in s.findings)
    others = {p for p, row in rows.items() if row.status.is_gap}
    assert others == {failed}


def test_a_source_older_than_the_maximum_age_is_a_stale_gap(read: Read) -> None:
    scans = read(clock=lambda: datetime.now(UTC) + timedelta(hours=30), aggregator_max_age_hours=24, first=3)

    rows = coverage(scans)
    stale = [row for row in rows.values() if row.status.is_gap]
    assert stale
    assert all("CONFIG_REPORT_AGGREGATOR_MAX_AGE_HOURS (24 h)" in row.detail for row in stale)
    assert not any(s.findings for s in scans)


def test_accounts_and_regions_an_aggregator_does_not_cover_are_gaps_naming_the_fix(
    simulated_org: SimulatedOrganization, read: Read
) -> None:
    seeded = simulated_org.seeded
    aggregator = simulated_org.aggregator
    config = simulated_org.client("config", region=aggregator.region, account_id=aggregator.account_id)
    covered = seeded.accounts[0].id
    config.put_configuration_aggregator(
        ConfigurationAggregatorName="two-regions-one-account",
        AccountAggregationSources=[{"AccountIds": [covered], "AwsRegions": list(seeded.regions[:2])}],
    )
    try:
        rows = coverage(read(aggregator_name="two-regions-one-account", first=3))
    finally:
        config.delete_configuration_aggregator(ConfigurationAggregatorName="two-regions-one-account")

    assert "is not aggregated" in rows[(covered, seeded.regions[2])].detail
    assert "not a source" in rows[(seeded.accounts[1].id, seeded.regions[0])].detail
    assert rows[(covered, seeded.regions[0])].status is not CoverageStatus.ERROR


def test_an_aggregator_that_cannot_be_read_makes_every_place_a_gap_saying_why(
    simulated_org: SimulatedOrganization, read: Read
) -> None:
    unknown = coverage(read(aggregator_name="no-such-aggregator", first=3))
    simulated_org.faults.configure(deny_assume_role_into=[simulated_org.aggregator.account_id])
    denied = coverage(read(first=3))

    assert {row.status for row in unknown.values()} == {CoverageStatus.ERROR}
    assert all("CONFIG_REPORT_AGGREGATOR_NAME" in row.detail for row in unknown.values())
    assert {row.status for row in denied.values()} == {CoverageStatus.ACCESS_DENIED}
    assert all("CONFIG_REPORT_AGGREGATOR_ROLE_ARN" in row.detail for row in denied.values())


def test_a_denied_detail_call_costs_the_non_compliant_rules_alone_and_names_them(
    simulated_org: SimulatedOrganization, read: Read
) -> None:
    simulated_org.faults.configure(
        deny_config_actions_in=[("*", "GetAggregateComplianceDetailsByConfigRule")]
    )

    scans = read(first=3)

    rules = [r for s in scans for r in s.rules]
    assert {r.rule_name for r in rules if r.unread} == {
        r.rule_name for r in rules if r.compliance is Compliance.NON_COMPLIANT
    }
    assert any(r.compliance is Compliance.COMPLIANT and not r.unread for r in rules)
    ok = [c for c in coverage(scans).values() if c.status is CoverageStatus.OK]
    assert ok
    assert any("could not be read, the others were" in c.detail for c in ok)


def test_the_query_fast_path_finds_the_same_failing_evaluations_with_far_fewer_calls(
    simulated_org: SimulatedOrganization, read: Read
) -> None:
    simulated_org.faults.reset()
    detailed = read(first=8)
    detail_calls = simulated_org.faults.operations[DETAILS]
    simulated_org.faults.reset()
    simulated_org.aggregator.without_compliance_items(
        simulated_org.seeded.accounts[2].id, simulated_org.seeded.regions[1]
    )

    queried = read(aggregator_findings="query", first=8)

    operations = simulated_org.faults.operations
    assert evaluations(queried) == evaluations(detailed)
    # Rules past 100 failing resources, and the source without compliance items, take the detail call.
    assert 1 < operations[DETAILS] * 5 < detail_calls


def test_owners_come_from_the_failing_resources_tags_read_across_every_source(
    simulated_org: SimulatedOrganization, whole: tuple[AccountScan, ...]
) -> None:
    tags = simulated_org.seeded.tags.resources

    findings = [f for s in whole for f in s.findings if f.resource_type != "AWS::::Account"]

    for f in findings:
        seeded = tags[(f.account_id, f.region, f.resource_type, f.resource_id)]
        assert f.owner is not None
        if seeded.record is not ResourceRecord.RECORDED:
            # Deleted or never recorded: only the account itself can tell, the aggregator lists neither.
            assert f.owner.record is ResourceRecord.UNCHECKED
        elif "Owner" in seeded.tags:
            # A global resource's tags, read in the one region that records it, serve its other regions.
            assert (f.owner.name, f.owner.source) == (seeded.tags["Owner"], OwnerSource.RESOURCE_TAG)


def test_once_stopped_no_rule_is_read_and_places_with_rules_left_are_interrupted(
    simulated_org: SimulatedOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in simulated_org.client_env().items():
        monkeypatch.setenv(name, value)
    stopped = threading.Event()
    stopped.set()

    scans = read_aggregator(simulated_org.seeded.accounts[:3], plan(simulated_org, clock=None), stop=stopped)

    rows = coverage(scans)
    interrupted = {p for p, row in rows.items() if row.status is CoverageStatus.INTERRUPTED}
    assert interrupted
    assert not any(f for s in scans for f in s.findings if (f.account_id, f.region) in interrupted)
    assert all("SIGTERM" in rows[p].detail for p in interrupted)
