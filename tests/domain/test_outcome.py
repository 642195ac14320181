"""How a run ends: the exit code contract stays; CONFIG_REPORT_FAIL_ON chooses what fails the Job."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from config_report.domain.model import AccountStatus, CoverageStatus, Report
from config_report.domain.outcome import judge_outcome
from config_report.errors import ExitCode
from config_report.settings import OutcomePolicy
from config_report.simulated import SimulatedOrganization
from factories import prod_scan, run_info, sample_report
from runner import run_cli, run_process


def clean_report() -> Report:
    return Report(run=run_info(), scans=(prod_scan(),))


def test_a_complete_run_exits_0_at_info() -> None:
    ending = judge_outcome(clean_report(), jira_ok=True, policy=OutcomePolicy(frozenset(["gaps", "jira"]), 0))
    assert (ending.outcome, ending.exit_code, ending.log_level) == (ExitCode.OK, ExitCode.OK, "info")
    assert not ending.tolerated


def test_a_rule_that_alone_could_not_be_read_is_a_gap() -> None:
    scan = prod_scan()
    first, *others = scan.rules
    unread = replace(first, read_status=CoverageStatus.ACCESS_DENIED, read_detail="denied")
    report = Report(run=run_info(), scans=(replace(scan, rules=(unread, *others)),))

    ending = judge_outcome(report, jira_ok=True, policy=OutcomePolicy(frozenset(["gaps", "jira"]), 0))

    assert (ending.exit_code, ending.gap_accounts) == (ExitCode.INCOMPLETE, 1)
    assert report.scans[0].status is AccountStatus.PARTIAL


def test_by_default_gaps_exit_3_and_a_failed_ticket_exits_4() -> None:
    gaps = judge_outcome(sample_report(), jira_ok=True, policy=OutcomePolicy(frozenset(["gaps", "jira"]), 0))
    assert (gaps.exit_code, gaps.log_level, gaps.gap_accounts) == (ExitCode.INCOMPLETE, "warning", 1)
    jira = judge_outcome(sample_report(), jira_ok=False, policy=OutcomePolicy(frozenset(["gaps", "jira"]), 0))
    assert (jira.exit_code, jira.log_level) == (ExitCode.JIRA_FAILED, "error")


@pytest.mark.parametrize(
    ("jira_ok", "fail_on", "tolerance", "expected"),
    [
        (True, ["jira"], 0, ExitCode.OK),  # gaps tolerated
        (True, ["gaps"], 1, ExitCode.OK),  # one account with gaps is within the tolerance
        (True, ["gaps"], 0, ExitCode.INCOMPLETE),
        (False, ["gaps"], 0, ExitCode.OK),  # Jira tolerated
        (False, [], 0, ExitCode.OK),
    ],
)
def test_tolerated_outcomes_exit_0_but_keep_their_name_and_level(
    jira_ok: bool, fail_on: list[str], tolerance: int, expected: ExitCode
) -> None:
    ending = judge_outcome(
        sample_report(), jira_ok=jira_ok, policy=OutcomePolicy(frozenset(fail_on), tolerance)
    )
    assert ending.exit_code is expected
    assert ending.outcome is (ExitCode.INCOMPLETE if jira_ok else ExitCode.JIRA_FAILED)
    assert ending.tolerated is (expected is ExitCode.OK)
    assert ending.log_level in ("warning", "error")


def test_a_tolerated_gap_exits_0_and_is_still_logged_as_a_warning(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    special = {seeded.hub.account_id, seeded.management_account_id}
    denied, other = [a.id for a in seeded.accounts if a.id not in special][:2]
    simulated_org.faults.reset()
    simulated_org.faults.configure(deny_assume_role_into=[denied])
    try:
        run = run_cli(
            simulated_org,
            "run",
            CONFIG_REPORT_ACCOUNTS=f"{denied},{other}",
            CONFIG_REPORT_FAIL_ON="jira",
        )
    finally:
        simulated_org.faults.reset()
    assert run.returncode == 0, run.stderr[-2000:]
    (done,) = [e for e in run.log_events() if e["event"] == "run.done"]
    assert done["level"] == "warning"
    assert (done["outcome"], done["tolerated"], done["accounts_with_gaps"]) == ("INCOMPLETE", True, 1)
    levels = {e["account_id"]: e["level"] for e in run.log_events() if e["event"] == "account.done"}
    assert levels == {denied: "warning", other: "info"}


def test_an_unknown_outcome_in_fail_on_is_a_settings_error_logged_as_json(
    simulated_org: SimulatedOrganization,
) -> None:
    done = run_process(simulated_org, "run", CONFIG_REPORT_FAIL_ON="gaps,warnings")
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    event = json.loads(line)
    assert (event["event"], event["level"], event["exit_code"]) == ("settings.invalid", "error", 2)
    assert "CONFIG_REPORT_FAIL_ON (--fail-on): 'warnings' is not an outcome" in event["error"]
