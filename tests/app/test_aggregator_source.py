"""End to end: `config-report run --source aggregator` and `config-report verify` as subprocesses against
the simulated organization's aggregator; the report read back from S3.

The done-when of issue 21: through the aggregator the report holds the same findings as through the
spokes (and `verify` says so, exit 0); a failed aggregation is a named gap (exit 3); a lagging source
is a difference `verify` names (exit 1).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from config_report.errors import ExitCode
from config_report.render.xlsx.cells import fit_cell_text
from config_report.simulated import SimulatedOrganization, evolve
from config_report.simulated.aggregator_seed import AGGREGATION_ERROR, AGGREGATION_ERROR_CODE
from runner import Run, run_cli, run_process


@pytest.fixture(scope="module")
def aggregated_run(simulated_org: SimulatedOrganization) -> Run:
    """This week's report read through the organization's aggregator."""
    simulated_org.faults.reset()
    return run_cli(simulated_org, "run", "--source", "aggregator")


def test_through_the_aggregator_the_report_holds_every_finding_the_accounts_hold(
    simulated_org: SimulatedOrganization, aggregated_run: Run
) -> None:
    seeded = simulated_org.seeded
    names = {a.id: a.name for a in seeded.accounts}
    expected = Counter(
        (f.account_id, names[f.account_id], f.region, f.rule_name, f.resource_type, f.resource_id)
        for f in seeded.findings
    )

    assert aggregated_run.returncode == ExitCode.OK, aggregated_run.stderr[-3000:]
    rows = aggregated_run.sheet("Non-compliant resources")[1:]
    assert Counter(tuple(row[:6]) for row in rows) == expected
    # The detail call carries AWS's annotation, as the spokes' does.
    annotations = {
        (f.account_id, f.region, f.rule_name, f.resource_id): f.annotation for f in seeded.findings
    }
    assert all(row[6] == fit_cell_text(annotations[(row[0], row[2], row[3], row[5])]) for row in rows)


def test_through_the_aggregator_each_read_place_says_how_fresh_its_data_is(aggregated_run: Run) -> None:
    coverage = aggregated_run.sheet("Coverage")[1:]
    read = [row for row in coverage if row[3] == "OK"]

    assert read
    # AWS Message holds what the read found; Detail says what OK means, then the same words.
    assert all("read through the aggregator" in row[5] and "data as of" in row[5] for row in read)
    assert all(row[4].startswith("Read: ") and row[4].endswith(f"Found: {row[5]}") for row in read)
    (start,) = [e for e in aggregated_run.log_events() if e["event"] == "run.start"]
    assert start["settings"]["source"] == "aggregator"


def test_verify_agrees_on_the_seeded_organization_and_exits_0(simulated_org: SimulatedOrganization) -> None:
    done = run_process(simulated_org, "verify")

    assert done.returncode == ExitCode.OK, done.stdout + done.stderr[-3000:]
    assert "DIFF" not in done.stdout
    assert done.stdout.splitlines()[-1].startswith("AGREE: the aggregator and the accounts report the same")
    assert f"all {len(simulated_org.seeded.accounts)} accounts in scope" in done.stdout


def test_verify_on_a_sample_says_it_sampled(simulated_org: SimulatedOrganization) -> None:
    done = run_process(simulated_org, "verify", "--sample", "2")

    assert done.returncode == ExitCode.OK, done.stdout + done.stderr[-3000:]
    assert f"the first 2 of {len(simulated_org.seeded.accounts)} accounts in scope" in done.stdout


def test_a_failed_aggregation_is_a_coverage_gap_naming_awss_error_and_exits_3(
    fresh_simulated_org: SimulatedOrganization,
) -> None:
    seeded = fresh_simulated_org.seeded
    failed = (seeded.accounts[2].id, seeded.regions[0])
    fresh_simulated_org.aggregator.fail(*failed, at=datetime.now(UTC) - timedelta(hours=5))

    result = run_cli(fresh_simulated_org, "run", "--source", "aggregator")

    assert result.returncode == ExitCode.INCOMPLETE, result.stderr[-3000:]
    gaps = [row for row in result.sheet("Coverage")[1:] if row[3] == "ERROR"]
    assert [(row[0], row[2]) for row in gaps] == [failed]
    assert "FAILED" in gaps[0][5]
    assert f"{AGGREGATION_ERROR_CODE}: {AGGREGATION_ERROR}" in gaps[0][5]
    # Detail: what ERROR means (through the aggregator, a source that failed) and the fix, then AWS's words.
    assert "a source that failed" in gaps[0][4]
    assert "Fix: " in gaps[0][4]
    assert gaps[0][4].endswith(f"Found: {gaps[0][5]}")


def test_a_lagging_source_is_a_difference_verify_names_and_exits_1(
    fresh_simulated_org: SimulatedOrganization,
) -> None:
    seeded = fresh_simulated_org.seeded
    fixed = next(f for f in seeded.findings if f.account_id == seeded.accounts[6].id)
    fresh_simulated_org.aggregator.lag(
        fixed.account_id, fixed.region, at=datetime.now(UTC) - timedelta(hours=2)
    )
    evolve.fix([fixed], at=datetime.now(UTC))

    done = run_process(fresh_simulated_org, "verify")

    assert done.returncode == ExitCode.FAILED, done.stdout + done.stderr[-3000:]
    differences = [line for line in done.stdout.splitlines() if line.startswith("DIFF")]
    named = [line for line in differences if fixed.resource_id in line]
    assert named == [
        f"DIFF  only in the aggregator: {fixed.account_id} {fixed.region} {fixed.rule_name} "
        f"{fixed.resource_type} {fixed.resource_id}: accounts: not non-compliant; aggregator: NON_COMPLIANT"
    ]
    assert done.stdout.splitlines()[-1].startswith("DIFFER: ")


def test_the_aggregator_source_without_an_aggregator_name_exits_2_naming_the_setting(
    simulated_org: SimulatedOrganization,
) -> None:
    done = run_process(simulated_org, "run", "--source", "aggregator", CONFIG_REPORT_AGGREGATOR_NAME=None)

    assert done.returncode == ExitCode.USAGE
    assert "CONFIG_REPORT_AGGREGATOR_NAME is not set" in done.stderr


def test_check_proves_the_aggregator_role_and_reads_instead_of_the_spoke_roles(
    simulated_org: SimulatedOrganization,
) -> None:
    done = run_process(simulated_org, "check", "--source", "aggregator", CONFIG_REPORT_LOG_FORMAT="text")

    assert done.returncode == ExitCode.OK, done.stdout + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert any(line.startswith("PASS  aggregator role: assumed ") for line in lines)
    assert any(line.startswith("PASS  aggregator acme-organization-aggregator in ") for line in lines)
    assert not any("spoke role" in line for line in lines)
