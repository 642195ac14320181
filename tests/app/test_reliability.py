"""Every fault a weekly run meets, injected by the simulator and survived by `config-report run`.

Each test runs the real CLI (a subprocess, real boto3) against the simulated organization with one
fault injected, and checks the outcome its `reliability` marker declares: the rows of
docs/reliability.md. Runs cover a few accounts (CONFIG_REPORT_ACCOUNTS) to stay quick; the fault
layer does not know which accounts are scanned.
"""

from __future__ import annotations

import json
import signal
import socket
from collections import Counter
from collections.abc import Iterator

import pytest

from config_report.render.xlsx.cells import fit_cell_text
from config_report.simulated import SeededOrganization, SimulatedOrganization
from reliability import FindingKey, Outcome, outcome_of, reliability
from runner import Run, RunningCli, run_cli

PAYMENTS = "acme-payments-prod"  # the account with the most rules and findings


@pytest.fixture
def sim(simulated_org: SimulatedOrganization) -> Iterator[SimulatedOrganization]:
    """The shared simulated organization with no faults before the test and none after it."""
    simulated_org.faults.reset()
    yield simulated_org
    simulated_org.faults.reset()


@pytest.fixture
def outcome(request: pytest.FixtureRequest) -> Outcome:
    """The outcome the test declares with its `reliability` marker."""
    declared = outcome_of(request.node)
    assert declared is not None, "a reliability test declares its outcome"
    return declared


def scope(seeded: SeededOrganization) -> list[str]:
    """The accounts scanned: a few ordinary ones and the one with most findings."""
    return sorted({*(a.id for a in seeded.accounts[:3]), seeded.account_named(PAYMENTS).id})


def expected_findings(seeded: SeededOrganization) -> Counter[FindingKey]:
    """The findings rows a faultless run of `scope` writes."""
    names = {a.id: a.name for a in seeded.accounts}
    accounts = set(scope(seeded))
    return Counter(
        (
            f.account_id,
            names[f.account_id],
            f.region,
            f.rule_name,
            f.resource_type,
            f.resource_id,
            fit_cell_text(f.annotation),
        )
        for f in seeded.findings
        if f.account_id in accounts
    )


def run_scoped(sim: SimulatedOrganization, **env: str) -> Run:
    """`config-report run` over `scope`, with extra settings."""
    return run_cli(sim, "run", CONFIG_REPORT_ACCOUNTS=",".join(scope(sim.seeded)), **env)


def fails_the_run(fault: str, injected: str) -> pytest.MarkDecorator:
    """The declaration of a fault no retry outlasts: nothing published, exit 1, the Job runs again."""
    return reliability(
        fault=fault,
        injected=injected,
        published=False,
        complete=False,
        exit_code=1,
        lost="the whole run; the Job's retry starts over",
    )


def run_scoped_until_20_config_calls(sim: SimulatedOrganization) -> RunningCli:
    """`config-report run` over `scope`, one unit at a time, returned once 20 Config calls were served."""
    sim.faults.configure(latency=0.02)
    running = RunningCli(
        sim, "run", CONFIG_REPORT_ACCOUNTS=",".join(scope(sim.seeded)), CONFIG_REPORT_CONCURRENCY="1"
    )
    # Synchronized on what the simulator has served, never on a sleep.
    sim.faults.wait_for(lambda counts: counts.config_requests >= 20)
    return running


def events(run: Run, name: str) -> list[dict[str, object]]:
    return [e for e in run.log_events() if e["event"] == name]


# --- AWS answers badly, then well: retried, nothing lost ---------------------------------------------


@reliability(
    fault="AWS Config throttling",
    injected="a fifth of Config calls answer `ThrottlingException` (400)",
    published=True,
    complete=True,
    exit_code=0,
)
def test_config_throttling_is_retried_and_nothing_is_lost(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    sim.faults.configure(config_throttle_rate=0.2, seed=3)
    run = run_scoped(sim)
    outcome.check(run, expected_findings(sim.seeded))
    assert sim.faults.counts.throttled > 0


@reliability(
    fault="5xx burst from AWS Config",
    injected="30 Config calls answer `InternalFailure` (500) / `ServiceUnavailable` (503)",
    published=True,
    complete=True,
    exit_code=0,
)
def test_a_5xx_burst_is_retried_and_nothing_is_lost(sim: SimulatedOrganization, outcome: Outcome) -> None:
    sim.faults.configure(unavailable=30)
    run = run_scoped(sim)
    outcome.check(run, expected_findings(sim.seeded))
    assert sim.faults.counts.unavailable == 30


@reliability(
    fault="Connections reset",
    injected="10 Config calls get no response: the connection is dropped (TCP reset)",
    published=True,
    complete=True,
    exit_code=0,
)
def test_reset_connections_are_retried_and_nothing_is_lost(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    sim.faults.configure(connection_resets=10)
    run = run_scoped(sim)
    outcome.check(run, expected_findings(sim.seeded))
    assert sim.faults.counts.connection_resets == 10


@reliability(
    fault="Read timeouts",
    injected="4 Config calls answered after 8 s; `CONFIG_REPORT_READ_TIMEOUT=2`",
    published=True,
    complete=True,
    exit_code=0,
)
def test_stalled_answers_time_out_and_are_retried(sim: SimulatedOrganization, outcome: Outcome) -> None:
    sim.faults.configure(stalls=4, stall_seconds=8.0)
    run = run_scoped(sim, CONFIG_REPORT_READ_TIMEOUT="2")
    outcome.check(run, expected_findings(sim.seeded))
    assert sim.faults.counts.stalls == 4


@reliability(
    fault="One slow region",
    injected="every call to us-east-1 delayed 0.3 s",
    published=True,
    complete=True,
    exit_code=0,
)
def test_a_slow_region_only_makes_the_run_slower(sim: SimulatedOrganization, outcome: Outcome) -> None:
    sim.faults.configure(slow_region="us-east-1", slow_region_latency=0.3)
    run = run_scoped(sim)
    outcome.check(run, expected_findings(sim.seeded))
    # The delay was injected: calls to us-east-1 were slowed, and the other regions' were not.
    operations = sim.faults.operations
    config_calls = sum(n for op, n in operations.items() if op.startswith("config:"))
    assert 0 < sim.faults.counts.slowed < config_calls


@reliability(
    fault="STS throttling in an AssumeRole storm",
    injected="half of sts:AssumeRole calls answer `Throttling` (400)",
    published=True,
    complete=True,
    exit_code=0,
)
def test_throttled_assume_role_calls_are_retried(sim: SimulatedOrganization, outcome: Outcome) -> None:
    sim.faults.configure(sts_throttle_rate=0.5, seed=2)
    run = run_scoped(sim)
    outcome.check(run, expected_findings(sim.seeded))
    assert sim.faults.counts.sts_throttled > 0


@reliability(
    fault="STS deactivated in the hub's region for an account",
    injected="sts:AssumeRole into one account, in the hub's region, answers `RegionDisabledException` (403)",
    published=True,
    complete=True,
    exit_code=0,
)
def test_an_account_that_deactivated_sts_in_the_hubs_region_is_read_through_us_east_1(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    seeded = sim.seeded
    payments = seeded.account_named(PAYMENTS).id
    sim.faults.configure(sts_disabled_in=[(payments, seeded.hub.region)])
    run = run_scoped(sim)
    outcome.check(run, expected_findings(seeded))
    rows = {(r[0], r[2]): (r[3], r[5]) for r in run.sheet("Coverage")[1:]}
    detour = (
        f"STS is deactivated in {seeded.hub.region} for this account: its role was assumed through STS in "
        "us-east-1, where AWS never deactivates it"
    )
    for (account_id, region), (status, detail) in rows.items():
        assert status == seeded.coverage_status(account_id, region).value
        assert detail.endswith(detour) is (account_id == payments), detail
    assert sim.faults.counts.sts_region_disabled == 1


@reliability(
    fault="Credentials expire mid-run",
    injected="after 40 Config calls every issued session is refused: `ExpiredToken(Exception)`",
    published=True,
    complete=True,
    exit_code=0,
)
def test_expired_credentials_are_renewed_and_nothing_is_lost(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    sim.faults.configure(expire_credentials_after=40)
    run = run_scoped(sim)
    outcome.check(run, expected_findings(sim.seeded))
    assert sim.faults.counts.expired_rejected > 0
    # Each refused session was renewed by assuming its role again.
    assert sim.faults.counts.assume_role_served > 1 + len(scope(sim.seeded))


@reliability(
    fault="Organizations throttled mid-listing",
    injected="after 2 Organizations calls, the next 3 answer `TooManyRequestsException`",
    published=True,
    complete=True,
    exit_code=0,
)
def test_organizations_throttling_mid_listing_is_retried(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    sim.faults.configure(organizations_throttle_after=2, organizations_throttles=3)
    run = run_scoped(sim)
    outcome.check(run, expected_findings(sim.seeded))
    assert sim.faults.counts.organizations_throttled == 3


@reliability(
    fault="S3 short outage",
    injected="3 PutObject calls answer `ServiceUnavailable` (503); no botocore retries",
    published=True,
    complete=True,
    exit_code=0,
)
def test_a_short_s3_outage_is_outlasted_by_the_upload_retry(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    sim.faults.configure(s3_put_refusals=3, s3_put_refusal="ServiceUnavailable")
    run = run_scoped(sim, CONFIG_REPORT_MAX_ATTEMPTS="1", CONFIG_REPORT_UPLOAD_RETRY_SECONDS="120")
    outcome.check(run, expected_findings(sim.seeded))
    assert len(events(run, "upload.retry")) == 3


# --- one account × region cannot be read: recorded as a gap, the rest kept ----------------------------


@reliability(
    fault="A spoke role that cannot be assumed",
    injected="sts:AssumeRole into one account answers `AccessDenied` (403)",
    published=True,
    complete=False,
    exit_code=3,
    lost="that account only, listed as `ACCESS_DENIED` in Coverage",
)
def test_a_denied_spoke_role_loses_that_account_only(sim: SimulatedOrganization, outcome: Outcome) -> None:
    payments = sim.seeded.account_named(PAYMENTS).id
    sim.faults.configure(deny_assume_role_into=[payments])
    run = run_scoped(sim)
    outcome.check(run, expected_findings(sim.seeded), lost_units=[(payments, r) for r in sim.seeded.regions])
    rows = [r for r in run.sheet("Coverage")[1:] if r[0] == payments]
    assert {r[3] for r in rows} == {"ACCESS_DENIED"}


@reliability(
    fault="STS deactivated in the hub's region, and the role denied through us-east-1",
    injected="sts:AssumeRole into one account answers `RegionDisabledException` (403) in the hub's region, "
    "`AccessDenied` (403) in us-east-1",
    published=True,
    complete=False,
    exit_code=3,
    lost="that account only, listed as `ACCESS_DENIED` in Coverage, with both answers",
)
def test_an_account_sts_refuses_in_both_regions_is_a_gap_with_both_answers(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    seeded = sim.seeded
    payments = seeded.account_named(PAYMENTS).id
    sim.faults.configure(sts_disabled_in=[(payments, seeded.hub.region)], deny_assume_role_into=[payments])
    run = run_scoped(sim)
    outcome.check(run, expected_findings(seeded), lost_units=[(payments, r) for r in seeded.regions])
    rows = [r for r in run.sheet("Coverage")[1:] if r[0] == payments]
    assert {r[3] for r in rows} == {"ACCESS_DENIED"}
    (detail,) = {r[5] for r in rows}
    role = f"arn:aws:iam::{payments}:role/{seeded.spoke_role_name}"
    assert detail.startswith(
        f"STS is deactivated in {seeded.hub.region} for this account; retried through us-east-1: "
        "AssumeRole: AccessDenied: User: "
    )
    assert detail.endswith(f"is not authorized to perform: sts:AssumeRole on resource: {role}")


@reliability(
    fault="A paginator that never ends",
    injected="Config pages in one account × region always repeat the same `NextToken`",
    published=True,
    complete=False,
    exit_code=3,
    lost="that account × region only, listed as `ERROR` in Coverage",
)
def test_a_repeated_next_token_is_an_error_for_that_region_only(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    payments = sim.seeded.account_named(PAYMENTS).id
    sim.faults.configure(endless_pages_in=[(payments, "eu-west-1")])
    run = run_scoped(sim)
    outcome.check(run, expected_findings(sim.seeded), lost_units=[(payments, "eu-west-1")])
    (row,) = [r for r in run.sheet("Coverage")[1:] if (r[0], r[2]) == (payments, "eu-west-1")]
    assert row[3] == "ERROR"
    assert "same next token" in row[5]


@reliability(
    fault="Jira unreachable",
    injected="`CONFIG_REPORT_JIRA_URL` points at a closed port",
    published=True,
    complete=True,
    exit_code=4,
)
def test_an_unreachable_jira_keeps_the_report_published(sim: SimulatedOrganization, outcome: Outcome) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    run = run_scoped(
        sim,
        CONFIG_REPORT_JIRA_URL=f"http://127.0.0.1:{closed}",
        CONFIG_REPORT_JIRA_PROJECT="SEC",
        CONFIG_REPORT_JIRA_API_TOKEN="not-a-real-token",
    )
    outcome.check(run, expected_findings(sim.seeded))
    (failed,) = events(run, "jira.failed")
    assert "could not be reached" in str(failed["error"])


# --- Kubernetes stops the pod: what was read is published ---------------------------------------------


@reliability(
    fault="SIGTERM mid-scan (Job deadline, node drain, eviction)",
    injected="SIGTERM once 20 Config calls were served (one unit at a time)",
    published=True,
    complete=False,
    exit_code=3,
    lost="nothing read; each account × region not yet started is listed `INTERRUPTED`",
)
def test_sigterm_mid_scan_publishes_what_was_read_and_marks_the_rest_interrupted(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    running = run_scoped_until_20_config_calls(sim)
    running.process.send_signal(signal.SIGTERM)
    run = running.finish()

    coverage = run.sheet("Coverage")[1:]
    interrupted = [(row[0], row[2]) for row in coverage if row[3] == "INTERRUPTED"]
    assert interrupted, "the run stopped before the end"
    assert "OK" in {row[3] for row in coverage}, "what was read before the signal is in the report"
    outcome.check(run, expected_findings(sim.seeded), lost_units=interrupted)
    (stopped,) = events(run, "run.interrupted")
    assert stopped["interrupted"] == len(interrupted)


@reliability(
    fault="A second SIGTERM (or SIGKILL) in the grace period",
    injected="SIGTERM, then SIGTERM again once the run logs `run.stopping` (uploads refused meanwhile)",
    published=False,
    complete=False,
    exit_code=143,
    lost="that run only (no manifest published); the next run is whole",
)
def test_a_second_sigterm_ends_the_run_at_once_and_loses_only_that_run(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    running = run_scoped_until_20_config_calls(sim)
    # S3 refuses every upload from now on, so the run cannot publish before the second signal lands.
    sim.faults.configure(s3_put_refusals=10_000)
    running.process.send_signal(signal.SIGTERM)
    running.wait_for_event("run.stopping")
    running.process.send_signal(signal.SIGTERM)
    killed = running.finish()
    sim.faults.reset()
    after = run_scoped(sim)

    outcome.check(killed, expected_findings(sim.seeded))
    assert after.returncode == 0, after.stderr[-3000:]
    assert json.loads(after.file(".manifest.json"))["figures"]["coverage_gaps"] == 0


# --- what cannot be worked around: exit 1, nothing published, the Job retries --------------------------


@fails_the_run(
    "Organizations failing", "after 2 Organizations calls every call answers `TooManyRequestsException`"
)
def test_organizations_failing_mid_listing_fails_the_run_with_the_reason(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    sim.faults.configure(organizations_throttle_after=2, organizations_throttles=10_000)
    run = run_scoped(sim, CONFIG_REPORT_MAX_ATTEMPTS="3")
    outcome.check(run, expected_findings(sim.seeded))
    (failed,) = events(run, "run.failed")
    assert "cannot list the organization's accounts" in str(failed["error"])
    assert "TooManyRequestsException" in str(failed["error"])


@pytest.mark.parametrize(
    ("refusal", "says"),
    [
        pytest.param(
            "NoSuchBucket",
            "NoSuchBucket",
            marks=fails_the_run("S3 bucket missing", "PutObject answers `NoSuchBucket` (404)"),
            id="no-bucket",
        ),
        pytest.param(
            "AccessDenied",
            "s3:PutObject",
            marks=fails_the_run("S3 upload denied", "PutObject answers `AccessDenied` (403)"),
            id="access-denied",
        ),
        pytest.param(
            "KMSAccessDenied",
            "kms:GenerateDataKey",
            marks=fails_the_run(
                "KMS key denied", "PutObject answers `AccessDenied` for kms:GenerateDataKey (403)"
            ),
            id="kms-denied",
        ),
    ],
)
def test_a_refused_write_fails_the_preflight_at_once_naming_the_fix(
    sim: SimulatedOrganization, outcome: Outcome, refusal: str, says: str
) -> None:
    sim.faults.configure(s3_put_refusals=10_000, s3_put_refusal=refusal)
    run = run_scoped(sim)  # with the default 120 s of upload retries: the preflight does not wait for them
    outcome.check(run, expected_findings(sim.seeded))
    (failed,) = events(run, "run.failed")
    assert says in str(failed["error"])
    assert not events(run, "upload.retry"), "a refusal stands until someone fixes it: no waiting"
    assert sim.faults.counts.config_requests == 0, "nothing was scanned"


@fails_the_run("S3 long outage", "every PutObject answers `ServiceUnavailable` (503) past the retry time")
def test_an_s3_outage_is_retried_for_a_bounded_time_then_fails_with_the_reason(
    sim: SimulatedOrganization, outcome: Outcome
) -> None:
    sim.faults.configure(s3_put_refusals=10_000, s3_put_refusal="ServiceUnavailable")
    run = run_scoped(sim, CONFIG_REPORT_MAX_ATTEMPTS="2", CONFIG_REPORT_UPLOAD_RETRY_SECONDS="2")
    outcome.check(run, expected_findings(sim.seeded))
    (failed,) = events(run, "run.failed")
    assert "ServiceUnavailable" in str(failed["error"])
    assert "attempts" in str(failed["error"])
    assert events(run, "upload.retry"), "the upload was tried again before giving up"
