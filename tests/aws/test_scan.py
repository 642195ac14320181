"""The scan coordinator against the simulated organization: units, order, one role per account, quotas."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, timedelta
from typing import Any

from botocore.credentials import RefreshableCredentials

from config_report.aws.scan import ScanPlan, ScanProgress, scan_organization
from config_report.aws.session import Hub, ServiceModels, caller_identity, client_config
from config_report.domain.model import Account, CoverageStatus
from config_report.settings import load_settings
from config_report.simulated import SimulatedOrganization


class _CountingModels(ServiceModels):
    """The real shared models; each account's session also counts its Config calls in flight."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.in_flight: Counter[int] = Counter()
        self.most_in_flight: Counter[int] = Counter()

    def session(self, credentials: RefreshableCredentials | None = None) -> Any:
        core = super().session(credentials)
        key = id(core)
        core.register("before-call.config", lambda **_: self._change(key, +1))
        core.register("after-call.config", lambda **_: self._change(key, -1))
        core.register("after-call-error.config", lambda **_: self._change(key, -1))
        return core

    def _change(self, key: int, step: int) -> None:
        with self._lock:
            self.in_flight[key] += step
            self.most_in_flight[key] = max(self.most_in_flight[key], self.in_flight[key])


def _plan(
    sim: SimulatedOrganization,
    models: ServiceModels,
    *,
    concurrency: int,
    per_account: int = 4,
    regions: tuple[str, ...] | None = None,
) -> ScanPlan:
    settings = load_settings(
        {
            "spoke_role_name": sim.seeded.spoke_role_name,
            "session_name": "scan-test",
            "regions": ",".join(sim.seeded.regions if regions is None else regions),
            "concurrency": concurrency,
            "account_concurrency": per_account,
            "max_attempts": 5,
        }
    )
    sts = sim.client("sts")
    config = client_config(settings.client_config())
    hub = Hub(caller_identity(sts), session=None, sts=sts, config=config, region=sim.seeded.hub.region)
    return ScanPlan(hub, settings.scan_config(), models=models)


def _assume_role_calls(plan: ScanPlan) -> Counter[str]:
    calls: Counter[str] = Counter()

    def count(params: dict[str, Any], **_: Any) -> None:
        calls[params["RoleArn"].split(":")[4]] += 1

    plan.hub.sts.meta.events.register("provide-client-params.sts.AssumeRole", count)
    return calls


def _endpoint(sim: SimulatedOrganization, monkeypatch: Any) -> None:
    # The spoke sessions find the simulator the way the CLI does: from the environment.
    for name, value in sim.client_env().items():
        monkeypatch.setenv(name, value)


def test_every_region_of_every_account_is_read_once_and_results_keep_the_account_order(
    simulated_org: SimulatedOrganization, monkeypatch: Any
) -> None:
    _endpoint(simulated_org, monkeypatch)
    simulated_org.faults.reset()
    seeded = simulated_org.seeded
    accounts = tuple(reversed(seeded.accounts))
    plan = _plan(simulated_org, ServiceModels(), concurrency=8, per_account=2)
    assumed = _assume_role_calls(plan)
    progress: list[ScanProgress] = []

    scans = scan_organization(accounts, plan, on_unit_done=progress.append)

    assert [s.account.id for s in scans] == [a.id for a in accounts]
    assert assumed == Counter({a.id: 1 for a in accounts})
    coverage = [(c.account_id, c.region, c.status) for s in scans for c in s.coverage]
    expected = [(c.account_id, c.region, c.status) for c in seeded.coverage()]
    assert sorted(coverage) == sorted(expected)
    found = [(f.account_id, f.region, f.rule_name, f.resource_id) for s in scans for f in s.findings]
    seeded_findings = [(f.account_id, f.region, f.rule_name, f.resource_id) for f in seeded.findings]
    assert sorted(found) == sorted(seeded_findings)
    units = len(accounts) * len(seeded.regions)
    assert [p.units_done for p in progress] == list(range(1, units + 1))
    assert all(p.units_expected == units and p.units_exact for p in progress)


def test_no_account_has_more_regions_in_flight_than_its_limit(
    simulated_org: SimulatedOrganization, monkeypatch: Any
) -> None:
    _endpoint(simulated_org, monkeypatch)
    simulated_org.faults.reset()
    simulated_org.faults.configure(latency=0.02)
    models = _CountingModels()
    try:
        plan = _plan(simulated_org, models, concurrency=12, per_account=2)
        scans = scan_organization(simulated_org.seeded.accounts[:6], plan)
    finally:
        simulated_org.faults.reset()
    assert all(s.status.complete for s in scans)
    assert models.most_in_flight
    assert max(models.most_in_flight.values()) <= 2


def test_a_denied_account_becomes_coverage_rows_and_the_others_are_read(
    simulated_org: SimulatedOrganization, monkeypatch: Any
) -> None:
    _endpoint(simulated_org, monkeypatch)
    seeded = simulated_org.seeded
    denied, *others = seeded.accounts[:4]
    simulated_org.faults.reset()
    simulated_org.faults.configure(deny_assume_role_into=[denied.id])
    try:
        scans = scan_organization((denied, *others), _plan(simulated_org, ServiceModels(), concurrency=4))
    finally:
        simulated_org.faults.reset()
    assert [c.region for c in scans[0].coverage] == list(seeded.regions)
    assert {c.status for c in scans[0].coverage} == {CoverageStatus.ACCESS_DENIED}
    assert all(not c.status.is_gap for s in scans[1:] for c in s.coverage)


def test_progress_counts_accounts_whose_total_never_moves_when_regions_are_learned_account_by_account(
    simulated_org: SimulatedOrganization, monkeypatch: Any
) -> None:
    # Regions from ec2:DescribeRegions, and a denied account whose regions are never learned (one row):
    # the account-regions in all are a guess until every account is opened; accounts are known.
    _endpoint(simulated_org, monkeypatch)
    seeded = simulated_org.seeded
    *others, denied = seeded.accounts[:4]
    simulated_org.faults.reset()
    simulated_org.faults.configure(deny_assume_role_into=[denied.id])
    progress: list[ScanProgress] = []
    try:
        plan = _plan(simulated_org, ServiceModels(), concurrency=3, per_account=2, regions=())
        scans = scan_organization((*others, denied), plan, on_unit_done=progress.append)
    finally:
        simulated_org.faults.reset()

    units = sum(len(s.coverage) for s in scans)
    assert {p.accounts for p in progress} == {4}
    read = [p.accounts_read for p in progress]
    assert read == sorted(read)
    assert read[-1] == 4
    assert [p.units_done for p in progress][-1] == units
    exact = [p for p in progress if p.units_exact]
    assert exact, "the total of account-regions is known once every account is opened"
    assert not progress[0].units_exact
    assert {p.units_expected for p in exact} == {units}


def test_no_accounts_scan_to_nothing(simulated_org: SimulatedOrganization) -> None:
    no_accounts: tuple[Account, ...] = ()
    assert scan_organization(no_accounts, _plan(simulated_org, ServiceModels(), concurrency=4)) == ()


def test_dates_read_from_aws_are_the_instants_aws_recorded_held_in_utc(
    simulated_org: SimulatedOrganization, monkeypatch: Any
) -> None:
    _endpoint(simulated_org, monkeypatch)
    simulated_org.faults.reset()
    seeded = simulated_org.seeded
    recorded = {
        (f.account_id, f.region, f.rule_name, f.resource_id): f.last_evaluated for f in seeded.findings
    }

    scans = scan_organization(seeded.accounts[:3], _plan(simulated_org, ServiceModels(), concurrency=4))

    found = [f for s in scans for f in s.findings]
    assert found
    for finding in found:
        when = recorded[(finding.account_id, finding.region, finding.rule_name, finding.resource_id)]
        assert finding.last_evaluated is not None
        assert when is not None
        assert finding.last_evaluated.tzinfo is UTC
        assert abs(finding.last_evaluated - when) < timedelta(milliseconds=1)
    evaluated = [r.last_successful_evaluation for s in scans for r in s.rules]
    assert any(evaluated)
    assert all(moment.tzinfo is UTC for moment in evaluated if moment is not None)
