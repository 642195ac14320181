"""`config-report check`: one line per permission proven, and what to fix when one is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config_report.simulated import SimulatedOrganization
from config_report.simulated.jira import FakeJira, Flavor
from runner import run_process


@pytest.fixture
def simulator(simulated_org: SimulatedOrganization) -> Iterator[SimulatedOrganization]:
    simulated_org.faults.reset()
    yield simulated_org
    simulated_org.faults.reset()


def member(simulator: SimulatedOrganization) -> str:
    seeded = simulator.seeded
    special = {seeded.hub.account_id, seeded.management_account_id}
    return next(a.id for a in seeded.accounts if a.id not in special)


def test_a_healthy_deployment_passes_every_check_and_exits_0(simulator: SimulatedOrganization) -> None:
    account = member(simulator)
    done = run_process(simulator, "check", "--accounts", account)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines if not line.startswith(" ")][:-1] == [
        "PASS  settings",
        "PASS  hub identity",
        "PASS  org role",
        "PASS  organization listing",
        "PASS  spoke roles",
        f"PASS  config reads in {simulator.seeded.regions[0]}",
        f"PASS  conformance packs in {simulator.seeded.regions[0]}",
        "PASS  s3 write",
        "PASS  s3 read",
    ]
    assert "every one of the 1 accounts in scope" in done.stdout
    assert lines[-1] == "9 of 9 checks passed"


def test_a_spoke_role_without_the_pack_reads_fails_that_line_and_says_the_run_still_reports(
    simulator: SimulatedOrganization,
) -> None:
    account = member(simulator)
    simulator.faults.configure(deny_config_actions_in=[(account, "DescribeConformancePackCompliance")])

    done = run_process(simulator, "check", "--accounts", account)

    assert done.returncode != 0, done.stdout
    lines = done.stdout.splitlines()
    (failed,) = [n for n, line in enumerate(lines) if line.startswith("FAIL")]
    assert lines[failed].startswith(f"FAIL  conformance packs in {simulator.seeded.regions[0]}")
    assert "DescribeConformancePackCompliance" in lines[failed]
    assert "spoke-read-role" in lines[failed + 1]
    assert "Conformance Packs" in lines[failed + 1]


def test_the_preflight_writes_one_marker_under_the_prefix(
    simulator: SimulatedOrganization,
) -> None:
    s3 = simulator.client("s3")
    bucket = simulator.seeded.hub.report_bucket
    before = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    run_process(simulator, "check", "--accounts", member(simulator))
    after = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    (marker,) = after - before
    assert marker.startswith("aws-config-reports/preflight/")


def test_a_denied_spoke_role_fails_its_line_with_the_fix_and_exit_1(simulator: SimulatedOrganization) -> None:
    account = member(simulator)
    simulator.faults.configure(deny_assume_role_into=[account])
    done = run_process(simulator, "check", "--accounts", account)
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert failed[0] == (
        f"FAIL  spoke role {account}: AssumeRole: AccessDenied: " + failed[0].split("AccessDenied: ")[1]
    )
    assert failed[1:] == [
        "FAIL  spoke roles: 1 of 1 could not be assumed; tried every one of the 1 accounts in scope"
    ]
    assert "fix: deploy the spoke-read-role" in done.stdout
    assert "PASS  s3 write" in done.stdout


def test_roles_in_accounts_that_deactivated_sts_in_the_hubs_region_are_proven_through_us_east_1(
    simulator: SimulatedOrganization,
) -> None:
    seeded, account = simulator.seeded, member(simulator)
    # The org role lives in the management account.
    deactivated = [(account, seeded.hub.region), (seeded.management_account_id, seeded.hub.region)]
    simulator.faults.configure(sts_disabled_in=deactivated)

    done = run_process(simulator, "check", "--accounts", account)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS  org role" in done.stdout
    assert "PASS  spoke roles" in done.stdout
    assert simulator.faults.counts.sts_region_disabled == 2


def test_every_account_is_proven_by_default_and_each_denied_one_is_named(
    simulator: SimulatedOrganization,
) -> None:
    seeded = simulator.seeded
    special = {seeded.hub.account_id, seeded.management_account_id}
    members = [a.id for a in seeded.accounts if a.id not in special]
    denied = [members[-1], members[-3]]
    simulator.faults.configure(deny_assume_role_into=denied)
    done = run_process(simulator, "check")
    assert done.returncode == 1
    named = {line.split(":")[0].removeprefix("FAIL  spoke role ") for line in done.stdout.splitlines()}
    assert set(denied) <= named
    assert (
        f"FAIL  spoke roles: 2 of {len(seeded.accounts)} could not be assumed; "
        f"tried every one of the {len(seeded.accounts)} accounts in scope"
    ) in done.stdout
    assert simulator.faults.counts.assume_role_denied == 2
    assert done.stdout.splitlines()[-1].endswith("failed: the job would not run cleanly")


def test_a_sample_is_asked_for_and_the_output_says_it_sampled(simulator: SimulatedOrganization) -> None:
    done = run_process(simulator, "check", "--sample", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    total = len(simulator.seeded.accounts)
    assert f"a sample of the first 2 of {total} accounts in scope (--sample 2)" in done.stdout
    assert done.stdout.splitlines()[-1].endswith("(spoke roles sampled, not proven in every account)")


KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b5c1c55-9d30-4d39-9c5e-7a1e0d9c0001"
S3_FAILURES = {  # what is wrong: the fix check must print for it
    "bucket typo": "does not exist: correct CONFIG_REPORT_S3_BUCKET",
    "write denied": "grant the hub role s3:PutObject",
    "KMS key denied": "may not use the KMS key",
}


@pytest.mark.parametrize("problem", S3_FAILURES)
def test_s3_failures_get_their_own_fix(simulator: SimulatedOrganization, problem: str) -> None:
    bucket = simulator.seeded.hub.report_bucket
    settings: dict[str, str] = {}
    if problem == "bucket typo":
        settings["CONFIG_REPORT_S3_BUCKET"] = bucket + "-typo"
    elif problem == "write denied":
        simulator.faults.configure(deny_s3_put_into=[bucket])
    else:
        simulator.faults.configure(deny_kms_keys=[KMS_KEY])
        settings["CONFIG_REPORT_S3_KMS_KEY_ID"] = KMS_KEY
    done = run_process(simulator, "check", "--accounts", member(simulator), **settings)
    assert done.returncode == 1
    (failed,) = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert failed.startswith("FAIL  s3 write: cannot write to s3://")
    (fix_line,) = [line for line in done.stdout.splitlines() if line.strip().startswith("fix:")]
    assert S3_FAILURES[problem] in fix_line
    assert not [fix for other, fix in S3_FAILURES.items() if other != problem and fix in done.stdout]


def test_a_missing_bucket_is_a_failed_check_not_a_crash(simulator: SimulatedOrganization) -> None:
    done = run_process(simulator, "check", "--accounts", member(simulator), CONFIG_REPORT_S3_BUCKET="")
    assert done.returncode == 1
    assert "FAIL  s3 write: CONFIG_REPORT_S3_BUCKET is not set" in done.stdout


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_a_configured_jira_is_checked_with_the_configured_credentials(
    simulator: SimulatedOrganization, tmp_path: Path, flavor: Flavor
) -> None:
    with FakeJira(flavor).running() as jira:
        token = tmp_path / "token"
        token.write_text(jira.token)
        settings = {
            "CONFIG_REPORT_JIRA_URL": jira.url,
            "CONFIG_REPORT_JIRA_PROJECT": "SEC",
            "CONFIG_REPORT_JIRA_API_TOKEN_FILE": str(token),
            "CONFIG_REPORT_JIRA_EMAIL": jira.email if flavor == "cloud" else "",
        }
        good = run_process(simulator, "check", "--accounts", member(simulator), **settings)
        token.write_text("revoked-token")
        bad = run_process(simulator, "check", "--accounts", member(simulator), **settings)
    assert good.returncode == 0, good.stdout
    assert f"PASS  jira: {flavor} at {jira.url}: can search project SEC" in good.stdout
    assert bad.returncode == 1
    (failed,) = [line for line in bad.stdout.splitlines() if line.startswith("FAIL")]
    assert failed.startswith("FAIL  jira: ")
    assert "revoked-token" not in bad.stdout + bad.stderr
