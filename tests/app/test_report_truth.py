"""End to end: what real AWS organizations hold that a naive scan would report wrongly, and the report right.

Each case is produced by the simulated organization the way AWS produces it (the seeder's special cases,
or the fault layer for what happens between two calls), then read through `config-report run`.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from config_report.domain.coverage_words import status_words
from config_report.domain.model import Compliance, CoverageStatus, ResourceRecord, RuleResult
from config_report.domain.severity import Severity
from config_report.simulated import SimulatedOrganization, _moto, evolve
from config_report.simulated.compliance import Evaluation
from config_report.simulated.faults import RuleFault
from config_report.simulated.jira import FakeJira
from config_report.simulated.seed import (
    BIG_RULE_NAME,
    CIS_PACK,
    DELETING_RULES,
    EVALUATING_RULE,
    FAILING_RULE,
    FAILURE_CODE,
    INVOKED_RULE,
    NOT_RECORDED_IN_PRODUCTION,
    ORGANIZATION_PACK,
    ORGANIZATION_PACK_RULE,
    PCI_PACK,
    PROACTIVE_RULE,
    RECORDER_ERROR,
    RECORDER_ERROR_CODE,
    STALE_RULE,
)
from jira.bodies import body_text
from runner import Run, run_cli

RULE_COLUMNS = [
    "Account ID", "Account Name", "Region", "Rule Name", "Compliance", "Non-compliant Resources",
    "Severity", "Normalized Rule Name", "Rule State", "Read Status", "Read Detail", "Evaluation",
    "Last Successful Evaluation", "Last Failed Evaluation", "Last Error Code",
]  # fmt: skip


def rules_by_name(run: Run) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Rules sheet rows as dicts keyed by (account, region, rule name)."""
    header, *rows = run.sheet("Rules")
    assert header[: len(RULE_COLUMNS)] == RULE_COLUMNS
    return {(r[0], r[2], r[3]): dict(zip(header, r, strict=True)) for r in rows}


def summary(run: Run) -> dict[str, Any]:
    return {str(row[0]): row[1] for row in run.sheet("Summary") if row and row[0]}


def snapshot(run: Run) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(gzip.decompress(run.file(".json.gz")))
    return document


@pytest.fixture(scope="module")
def clean_run(simulated_org: SimulatedOrganization) -> Run:
    """The default organization, no faults: every special case of the seeder, read once."""
    simulated_org.faults.reset()
    return run_cli(simulated_org, "run")


def test_states_of_the_accounts_are_reported_but_are_not_gaps(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    seeded = simulated_org.seeded
    coverage = {(row[0], row[2]): (row[3], row[5]) for row in clean_run.sheet("Coverage")[1:]}

    assert clean_run.returncode == 0, clean_run.stderr[-3000:]
    assert {key: status for key, (status, _) in coverage.items()} == {
        (c.account_id, c.region): c.status.value for c in seeded.coverage()
    }
    statuses = Counter(status for status, _ in coverage.values())
    assert statuses["CONFIG_NOT_RECORDING"] == len(seeded.config_stopped) == 1
    assert statuses["DENIED_BY_SCP"] == len(seeded.regions_denied_by_scp) > 0
    figures = summary(clean_run)
    assert figures["AWS Config not recording"] == 1
    assert figures["Denied by an organization policy (SCP)"] == statuses["DENIED_BY_SCP"]
    assert figures["Could not be read (access denied or error)"] == 0


def test_a_stopped_recorder_says_when_it_stopped_and_its_stale_results_are_not_reported(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    ((account_id, region),) = simulated_org.seeded.config_stopped
    coverage = {(row[0], row[2]): row[5] for row in clean_run.sheet("Coverage")[1:]}
    recorder = simulated_org.client("config", region=region, account_id=account_id)
    (status,) = recorder.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]

    stopped_at = status["lastStopTime"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert coverage[(account_id, region)].startswith(f"recorder 'default' stopped at {stopped_at}")
    assert not [key for key in rules_by_name(clean_run) if key[:2] == (account_id, region)]
    assert recorder.describe_config_rules()["ConfigRules"], "Config still holds the stale rules"


def test_rules_being_deleted_or_only_proactive_are_left_out_and_counted(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    seeded = simulated_org.seeded
    reported = {name for _, _, name in rules_by_name(clean_run)}
    left_out = Counter(r.reason.value for r in seeded.skipped_rules)

    assert not reported & {*DELETING_RULES, PROACTIVE_RULE}
    figures = summary(clean_run)
    assert figures["Rules left out: being deleted"] == left_out["being deleted"] == 2
    assert figures["Rules left out: proactive only"] == left_out["proactive only"] == 1
    evaluating = [row for key, row in rules_by_name(clean_run).items() if key[2] == EVALUATING_RULE]
    assert evaluating
    assert {row["Rule State"] for row in evaluating} == {"EVALUATING"}


def test_service_linked_rules_are_one_entry_under_their_normalized_name(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    seeded = simulated_org.seeded
    rows = rules_by_name(clean_run)
    suffixed = [row for row in rows.values() if row["Rule Name"] != row["Normalized Rule Name"]]
    resources: dict[str, set[Any]] = {}
    for finding in seeded.findings:
        resources.setdefault(finding.normalized_name, set()).add(finding.resource)
    totals = {name: len(found) for name, found in resources.items()}

    assert {row["Normalized Rule Name"] for row in suffixed} == {
        "securityhub-s3-bucket-level-public-access-prohibited",
        "ec2-stopped-instance",
        "ebs-snapshot-public-restorable-check",
        "s3-bucket-public-read-prohibited",  # both packs' copies beside the account's own rule
        ORGANIZATION_PACK_RULE,  # the organization pack's copy beside the account's own rule
    }
    assert len({row["Rule Name"] for row in suffixed}) > 3 * 3, "each copy has its own suffix"
    ranked = snapshot(clean_run)["figures"]["worst_rules"]
    severity = {row["Normalized Rule Name"]: Severity(row["Severity"]) for row in rows.values()}
    # The most severe first, then by distinct resources.
    expected = sorted(totals.items(), key=lambda item: (severity[item[0]].rank, -item[1], item[0]))[:10]
    assert [(r["name"], r["count"], r["severity"]) for r in ranked] == [
        (name, count, severity[name].value) for name, count in expected
    ]
    findings = clean_run.sheet("Non-compliant resources")
    normalized = findings[0].index("Normalized Rule Name")
    assert {row[normalized] for row in findings[1:] if row[3].startswith("securityhub-s3-")} == {
        "securityhub-s3-bucket-level-public-access-prohibited"
    }


def test_failing_and_stale_rules_are_flagged_with_time_and_error_code(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    seeded = simulated_org.seeded
    flagged = {(r.account_id, r.region, r.rule_name): r for r in seeded.rules if r.evaluation_flag}
    rows = rules_by_name(clean_run)

    assert {key for key, row in rows.items() if row["Evaluation"]} == set(flagged)
    failing = _only(flagged, FAILING_RULE)
    row = rows[(failing.account_id, failing.region, failing.rule_name)]
    assert (row["Evaluation"], row["Last Error Code"]) == ("FAILED", FAILURE_CODE)
    assert failing.last_failed_evaluation is not None
    assert _same_second(row["Last Failed Evaluation"], failing.last_failed_evaluation)
    stale = _only(flagged, STALE_RULE)
    row = rows[(stale.account_id, stale.region, stale.rule_name)]
    assert row["Evaluation"] == "STALE"
    assert stale.last_successful_evaluation is not None
    assert _same_second(row["Last Successful Evaluation"], stale.last_successful_evaluation)
    figures = summary(clean_run)
    assert figures["Rules whose last evaluation failed"] == 1
    assert figures["Periodic rules that stopped running"] == 1


def _only(rules: dict[tuple[str, str, str], RuleResult], name: str) -> RuleResult:
    (rule,) = [r for key, r in rules.items() if key[2] == name]
    return rule


def _same_second(cell: object, moment: datetime) -> bool:
    assert isinstance(cell, datetime)
    return abs(cell - moment.astimezone(UTC).replace(tzinfo=None)).total_seconds() < 1


def test_a_longer_stale_age_flags_only_the_failing_rule(simulated_org: SimulatedOrganization) -> None:
    simulated_org.faults.reset()
    big = simulated_org.seeded.accounts[2].id

    run = run_cli(simulated_org, "run", CONFIG_REPORT_ACCOUNTS=big, CONFIG_REPORT_STALE_RULE_DAYS="30")

    assert run.returncode == 0, run.stderr[-3000:]
    flags = {key[2]: row["Evaluation"] for key, row in rules_by_name(run).items() if row["Evaluation"]}
    assert flags == {FAILING_RULE: "FAILED"}


def test_one_bad_rule_costs_only_itself_and_the_run_exits_3(simulated_org: SimulatedOrganization) -> None:
    seeded = simulated_org.seeded
    big = seeded.accounts[2]
    home = seeded.regions[0]
    simulated_org.faults.reset()
    simulated_org.faults.configure(
        rule_faults=[
            ("securityhub-*", RuleFault.DENIED),
            (BIG_RULE_NAME, RuleFault.DELETED),
            ("restricted-ssh", RuleFault.THROTTLED),
        ]
    )
    try:
        run = run_cli(simulated_org, "run", CONFIG_REPORT_ACCOUNTS=big.id, CONFIG_REPORT_MAX_ATTEMPTS="2")
    finally:
        simulated_org.faults.reset()

    assert run.returncode == 3, run.stderr[-3000:]
    rows = rules_by_name(run)
    expected = {(r.account_id, r.region, r.rule_name): r for r in seeded.rules if r.account_id == big.id}
    assert set(rows) == set(expected), "every rule is listed, read or not"
    unread = {key: row for key, row in rows.items() if row["Read Status"] != "OK"}
    noncompliant = {key for key, r in expected.items() if r.compliance is Compliance.NON_COMPLIANT}
    assert unread
    assert set(unread) <= noncompliant
    for (_, _, name), row in unread.items():
        reason = {
            BIG_RULE_NAME: ("ERROR", "NoSuchConfigRuleException"),
            "restricted-ssh": ("ERROR", "ThrottlingException"),
        }.get(name, ("ACCESS_DENIED", "AccessDeniedException"))
        assert (row["Read Status"], reason[1] in row["Read Detail"]) == (reason[0], True), row
    read = {key for key in noncompliant if key not in unread}
    findings = Counter((row[0], row[2], row[3]) for row in run.sheet("Non-compliant resources")[1:])
    assert all(findings[key] == expected[key].noncompliant_resources for key in read)
    coverage = {row[2]: (row[3], row[5]) for row in run.sheet("Coverage")[1:]}
    assert coverage[home][0] == "OK"
    assert "could not be read" in coverage[home][1]
    assert BIG_RULE_NAME in coverage[home][1]
    assert summary(run)["Rules that could not be read"] == len(unread)
    (done,) = [e for e in run.log_events() if e["event"] == "run.done"]
    assert (done["coverage_gaps"], done["rules_unread"]) == (0, len(unread))


def test_excluded_rules_are_not_read_and_are_counted_in_a_note(simulated_org: SimulatedOrganization) -> None:
    seeded = simulated_org.seeded
    big = seeded.accounts[2]
    simulated_org.faults.reset()
    simulated_org.faults.configure(rule_faults=[("securityhub-*", RuleFault.DENIED)])
    try:
        run = run_cli(
            simulated_org,
            "run",
            CONFIG_REPORT_ACCOUNTS=big.id,
            CONFIG_REPORT_EXCLUDE_RULES="securityhub-*, ec2-*",
        )
    finally:
        simulated_org.faults.reset()

    assert run.returncode == 0, run.stderr[-3000:]
    names = {row["Normalized Rule Name"] for row in rules_by_name(run).values()}
    excluded = [
        r
        for r in seeded.rules
        if r.account_id == big.id and r.normalized_name.startswith(("securityhub-", "ec2-"))
    ]
    assert excluded
    assert not any(name.startswith(("securityhub-", "ec2-")) for name in names)
    assert summary(run)["Rules left out: excluded by the rule filters"] == len(excluded)


def test_only_the_chosen_rules_are_reported(simulated_org: SimulatedOrganization) -> None:
    simulated_org.faults.reset()
    big = simulated_org.seeded.accounts[2]

    run = run_cli(simulated_org, "run", "--rules", "s3-*", CONFIG_REPORT_ACCOUNTS=big.id)

    assert run.returncode == 0, run.stderr[-3000:]
    names = {row["Normalized Rule Name"] for row in rules_by_name(run).values()}
    assert names
    assert all(name.startswith("s3-") for name in names)


def test_regions_not_enabled_or_denied_by_scp_are_states_but_other_denials_are_gaps(
    fresh_simulated_org: SimulatedOrganization,
) -> None:
    sim = fresh_simulated_org
    sim.reset()
    seeded = sim.seed(accounts=6, suspended=0, regions=("eu-west-1", "us-east-1", "eu-south-2"))

    clean = run_cli(sim, "run")
    denied_account = seeded.accounts[0].id
    sim.faults.configure(deny_config_in=[(denied_account, "us-east-1")])
    denied = run_cli(sim, "run")

    assert clean.returncode == 0, clean.stderr[-3000:]
    coverage = {(row[0], row[2]): (row[3], row[5]) for row in clean.sheet("Coverage")[1:]}
    assert {key: status for key, (status, _) in coverage.items()} == {
        (c.account_id, c.region): c.status.value for c in seeded.coverage()
    }
    not_enabled = [detail for status, detail in coverage.values() if status == "REGION_NOT_ENABLED"]
    assert len(not_enabled) == len(seeded.regions_not_enabled) > 0
    assert all("UnrecognizedClientException" in detail for detail in not_enabled)
    # AWS's words stay in their own column; `Detail` says in ours what the status means.
    opt_in = [row for row in clean.sheet("Coverage")[1:] if row[3] == "REGION_NOT_ENABLED"]
    assert {row[4] for row in opt_in} == {
        status_words(CoverageStatus.REGION_NOT_ENABLED).detail(row[5]) for row in opt_in
    }
    scp = [detail for status, detail in coverage.values() if status == "DENIED_BY_SCP"]
    assert scp
    assert all("explicit deny in a service control policy" in detail for detail in scp)
    assert summary(clean)["Region not enabled in the account"] == len(not_enabled)
    assert denied.returncode == 3, denied.stderr[-3000:]
    after = {(row[0], row[2]): row[3] for row in denied.sheet("Coverage")[1:]}
    assert after[(denied_account, "us-east-1")] == "ACCESS_DENIED"


def test_values_aws_may_add_are_reported_as_they_came_with_one_warning(
    fresh_simulated_org: SimulatedOrganization,
) -> None:
    sim = fresh_simulated_org
    sim.reset()
    seeded = sim.seed(accounts=6, suspended=0, regions=("eu-west-1",))
    account = seeded.accounts[0].id
    first, second = [
        r.rule_name
        for r in seeded.rules_in(account, "eu-west-1")
        if r.compliance is not Compliance.NON_COMPLIANT
    ][:2]
    when = datetime.now(UTC)
    store = _moto.compliance_store(account, "eu-west-1")
    for rule in (first, second):
        # Straight into the store: PutEvaluations (rightly) refuses a type AWS has not defined yet.
        store.put([Evaluation(rule, "AWS::S3::Bucket", f"new-{rule}", "PARTIALLY_COMPLIANT", when)])
        store.put([Evaluation(rule, "AWS::S3::Bucket", "x", "NOT_APPLICABLE", when)])
    _moto.set_rule_fields(account, "eu-west-1", first, config_rule_state="PAUSED")

    run = run_cli(sim, "run", CONFIG_REPORT_ACCOUNTS=account)

    assert run.returncode == 0, run.stderr[-3000:]
    rows = rules_by_name(run)
    assert rows[(account, "eu-west-1", first)]["Rule State"] == "PAUSED"
    assert {rows[(account, "eu-west-1", r)]["Compliance"] for r in (first, second)} == {"PARTIALLY_COMPLIANT"}
    warnings = [e for e in run.log_events() if e["event"] == "config.unknown_value"]
    assert sorted((e["field"], e["value"]) for e in warnings) == [
        ("ComplianceType", "PARTIALLY_COMPLIANT"),
        ("ConfigRuleState", "PAUSED"),
    ]


# --- resources, not evaluations ------------------------------------------------------------------------


def test_a_global_resource_failing_in_every_region_is_one_non_compliant_resource(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    seeded = simulated_org.seeded
    iam = [f for f in seeded.findings if f.resource_type == "AWS::IAM::User"]
    regions_of = {f.resource: {x.region for x in iam if x.resource == f.resource} for f in iam}

    # The seeder deploys IAM rules in every region of production accounts: one user, several regions.
    assert max(len(regions) for regions in regions_of.values()) == len(seeded.regions)
    figures = snapshot(clean_run)["figures"]
    assert figures["noncompliant_resources"] == len({f.resource for f in seeded.findings})
    assert figures["failing_evaluations"] == len(seeded.findings) > figures["noncompliant_resources"]
    lines = summary(clean_run)
    assert (lines["Non-compliant resources"], lines["Failing evaluations"]) == (
        figures["noncompliant_resources"],
        figures["failing_evaluations"],
    )
    assert sum(row[5] for row in clean_run.sheet("Rules")[1:]) == figures["failing_evaluations"]


def test_a_bucket_failing_two_packs_copies_of_one_control_counts_once_for_that_control(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    seeded = simulated_org.seeded
    control = "s3-bucket-public-read-prohibited"
    copies = {f.rule_name for f in seeded.findings if f.normalized_name == control}
    failing = {f.resource for f in seeded.findings if f.normalized_name == control}

    assert control in copies
    assert len([name for name in copies if "-conformance-pack-" in name]) >= 2
    assert len([f for f in seeded.findings if f.normalized_name == control]) > len(failing)
    (entry,) = [row for row in clean_run.sheet("Rule catalogue")[1:] if row[0] == control]
    header = clean_run.sheet("Rule catalogue")[0]
    assert entry[header.index("Resources Failing")] == len(failing)
    assert entry[header.index("Conformance Packs")] == f"{CIS_PACK}, {PCI_PACK}"


def test_an_organization_pack_is_listed_once_by_its_name_across_its_copies_in_accounts_and_regions(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    seeded = simulated_org.seeded
    deployed = [
        r for r in seeded.rules if r.normalized_name == ORGANIZATION_PACK_RULE and r.conformance_packs
    ]
    copies = {pack for r in deployed for pack in r.conformance_packs or ()}
    header, *rows = clean_run.sheet("Rule catalogue")
    (entry,) = [row for row in rows if row[0] == ORGANIZATION_PACK_RULE]

    # A copy of the pack under a name of its own in each account and region it was deployed to ...
    assert len(copies) == len({(r.account_id, r.region) for r in deployed}) > len(seeded.regions)
    assert len({r.account_id for r in deployed}) > 1
    # ... and one pack in the catalogue, named as the organization names it.
    assert entry[header.index("Conformance Packs")] == f"{ORGANIZATION_PACK} (organization)"
    assert not [cell for row in rows for cell in row if "OrgConformsPack-" in str(cell)]
    # The snapshot keeps each rule's copy of the pack by its deployed name, as it keeps each rule's own.
    in_snapshot = {pack for rule in snapshot(clean_run)["rules"] for pack in rule["conformance_packs"] or ()}
    assert copies <= in_snapshot


def test_worst_accounts_rank_distinct_resources_so_more_regions_weigh_no_more(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    seeded = simulated_org.seeded
    names = {a.id: a.name for a in seeded.accounts}
    distinct = Counter(account for account, *_ in {f.resource for f in seeded.findings})

    worst = snapshot(clean_run)["figures"]["worst_accounts"]

    assert worst
    # Those with most resources failing a critical or high rule first, then by distinct resources.
    order = [(-item["critical_high"], -item["count"]) for item in worst]
    assert order == sorted(order)
    assert all(item["count"] == distinct[item["name"][-13:-1]] for item in worst)
    assert all(item["name"].startswith(names[item["name"][-13:-1]]) for item in worst)


# --- stale only where AWS promises an evaluation ------------------------------------------------------


def test_a_rule_run_only_on_changes_is_never_stale_however_long_ago_it_last_ran(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    seeded = simulated_org.seeded
    month_old = [
        r
        for r in seeded.rules
        if r.last_successful_evaluation is not None
        and datetime.now(UTC) - r.last_successful_evaluation > timedelta(days=20)
        and r.rule_name != STALE_RULE
    ]
    rows = rules_by_name(clean_run)

    assert len(month_old) > 20, "the seeder's stable accounts have rules last evaluated a month ago"
    assert {rows[(r.account_id, r.region, r.rule_name)]["Evaluation"] for r in month_old} == {""}
    assert [key[2] for key, row in rows.items() if row["Evaluation"] == "STALE"] == [STALE_RULE]


def test_a_periodic_rule_invoked_since_its_last_result_is_not_stale(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    big = simulated_org.seeded.accounts[2].id
    home = simulated_org.seeded.regions[0]

    row = rules_by_name(clean_run)[(big, home, INVOKED_RULE)]

    # Its last result is five days old, but AWS invoked it an hour ago: the later time is its last run.
    assert row["Evaluation"] == ""
    assert datetime.now(UTC).replace(tzinfo=None) - row["Last Successful Evaluation"] < timedelta(hours=2)


def test_a_periodic_rule_is_stale_by_its_own_frequency(fresh_simulated_org: SimulatedOrganization) -> None:
    sim = fresh_simulated_org
    big = sim.seeded.accounts[2].id
    home = sim.seeded.regions[0]
    late = datetime.now(UTC) - timedelta(hours=40)
    for rule in ("access-keys-rotated", "iam-password-policy"):  # every 12 hours, every 24 hours
        evolve.last_ran(big, home, rule, at=late)

    run = run_cli(sim, "run", CONFIG_REPORT_ACCOUNTS=big, CONFIG_REPORT_STALE_RULE_DAYS="1")

    rows = rules_by_name(run)
    assert rows[(big, home, "access-keys-rotated")]["Evaluation"] == "STALE"  # 40 h > 12 h + 1 day
    assert rows[(big, home, "iam-password-policy")]["Evaluation"] == ""  # 40 h < 24 h + 1 day


def test_a_failing_recorder_is_its_own_status_with_aws_error_and_its_stale_results_are_not_reported(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    ((account_id, region),) = simulated_org.seeded.recorders_failing
    coverage = {(row[0], row[2]): (row[3], row[5]) for row in clean_run.sheet("Coverage")[1:]}
    recorder = simulated_org.client("config", region=region, account_id=account_id)
    (status,) = recorder.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]

    state, detail = coverage[(account_id, region)]
    assert status["recording"] is True, "AWS says it records: only lastStatus tells"
    assert state == "CONFIG_RECORDER_FAILING"
    assert detail.startswith("recorder 'default' failing since ")
    assert f"{RECORDER_ERROR_CODE}: {RECORDER_ERROR}" in detail
    assert not [key for key in rules_by_name(clean_run) if key[:2] == (account_id, region)]
    figures = summary(clean_run)
    assert figures["AWS Config recorder failing"] == 1
    assert figures["Could not be read (access denied or error)"] == 0
    assert snapshot(clean_run)["figures"]["regions_recorder_failing"] == 1


def test_a_region_only_a_service_linked_recorder_records_is_read_not_config_not_enabled(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    seeded = simulated_org.seeded
    ((account_id, region),) = seeded.service_linked_only
    coverage = {(row[0], row[2]): (row[3], row[5]) for row in clean_run.sheet("Coverage")[1:]}
    expected = {r.rule_name: r for r in seeded.rules_in(account_id, region)}
    rows = {key[2]: row for key, row in rules_by_name(clean_run).items() if key[:2] == (account_id, region)}
    found = [row for row in clean_run.sheet("Non-compliant resources")[1:] if row[0] == account_id]

    state, detail = coverage[(account_id, region)]
    assert state == "OK"
    assert "AWSConfigurationRecorderForSecurityHubCSPM (securityhub.amazonaws.com)" in detail
    assert expected
    assert set(rows) == set(expected)
    assert all(name.startswith("securityhub-") for name in rows)
    assert len(found) == len(seeded.findings_for(account_id, region, next(iter(expected))))


def test_without_the_listing_permission_the_region_reads_as_without_config_and_the_run_says_why(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    ((account_id, region),) = seeded.service_linked_only
    simulated_org.faults.configure(deny_config_actions_in=[("*", "ListConfigurationRecorders")])
    try:
        run = run_cli(simulated_org, "run", CONFIG_REPORT_ACCOUNTS=account_id)
    finally:
        simulated_org.faults.reset()

    coverage = {(row[0], row[2]): (row[3], row[5]) for row in run.sheet("Coverage")[1:]}
    state, detail = coverage[(account_id, region)]
    assert run.returncode == 0, run.stderr[-3000:]
    assert state == "CONFIG_NOT_ENABLED"
    assert "service-linked recorders not checked" in detail
    assert "ListConfigurationRecorders" in detail
    (warning,) = [e for e in run.log_events() if e["event"] == "config_recorders.unlisted"]
    assert "config:ListConfigurationRecorders" in warning["fix"]


def test_deleted_only_when_config_recorded_the_deletion_and_global_resources_owned_where_recorded(
    simulated_org: SimulatedOrganization, clean_run: Run
) -> None:
    seeded = simulated_org.seeded
    header, *rows = clean_run.sheet("Non-compliant resources")
    source = header.index("Owner Source")
    sources = {(r[0], r[2], r[4], r[5]): str(r[source]) for r in rows}
    by_record: dict[ResourceRecord, list[tuple[str, str, str, str]]] = {}
    for key, seeded_resource in seeded.tags.resources.items():
        by_record.setdefault(seeded_resource.record, []).append(key)
    home, elsewhere = seeded.regions[0], seeded.regions[1]
    users_elsewhere = [
        k for k in by_record[ResourceRecord.RECORDED] if k[2] == "AWS::IAM::User" and k[1] == elsewhere
    ]
    kms_keys = [k for k in sources if k[2] in NOT_RECORDED_IN_PRODUCTION]

    assert all("(resource deleted on " in sources[k] for k in by_record[ResourceRecord.DELETED])
    assert all("not recorded" in sources[k] for k in by_record[ResourceRecord.NOT_RECORDED])
    assert kms_keys
    assert {sources[k] for k in kms_keys} <= {
        f"{owner} (not recorded: AWS Config holds no configuration item for it)"
        for owner in ("account tag", "none")
    }
    # An IAM user has an item only where global types are recorded; its other regions show the same owner.
    assert users_elsewhere
    assert all(sources[k] == sources[(k[0], home, k[2], k[3])] for k in users_elsewhere)
    assert not any("deleted" in s for k, s in sources.items() if k not in by_record[ResourceRecord.DELETED])


UNUSED = "sa-east-1"


@pytest.fixture(scope="module")
def regions_run(
    simulated_org: SimulatedOrganization, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    """The default organization plus a region no account records, read once with a Jira ticket."""
    simulated_org.reset()
    simulated_org.seed(unused_regions=(UNUSED,))
    token_file = tmp_path_factory.mktemp("regions") / "jira-token"
    try:
        with FakeJira("cloud").running() as jira:
            token_file.write_text(jira.token)
            run = run_cli(
                simulated_org,
                "run",
                CONFIG_REPORT_JIRA_URL=jira.url,
                CONFIG_REPORT_JIRA_PROJECT="SEC",
                CONFIG_REPORT_JIRA_EMAIL=jira.email,
                CONFIG_REPORT_JIRA_API_TOKEN_FILE=str(token_file),
            )
            (issue,) = jira.issues.values()
            yield replace(run, stdout=body_text(issue.fields["description"]))
    finally:
        simulated_org.reset()
        simulated_org.seed()


def test_regions_are_summarized_unused_once_and_broken_controls_name_their_accounts(
    simulated_org: SimulatedOrganization, regions_run: Run
) -> None:
    seeded = simulated_org.seeded
    coverage = {(row[0], row[2]): row[3] for row in regions_run.sheet("Coverage")[1:]}
    lines = summary(regions_run)
    broken_states = {"CONFIG_NOT_ENABLED", "CONFIG_NOT_RECORDING", "CONFIG_RECORDER_FAILING"}
    ticket = regions_run.stdout

    assert regions_run.returncode == 0, regions_run.stderr[-3000:]
    assert {coverage[(a.id, UNUSED)] for a in seeded.accounts} <= {"CONFIG_NOT_ENABLED", "DENIED_BY_SCP"}
    assert "Not used by the organization (AWS Config in no account): sa-east-1" in lines
    assert UNUSED not in lines
    for region in seeded.regions[1:-1]:  # most accounts record in each, and some do not
        named = {a.id for a in seeded.accounts if coverage[(a.id, region)] in broken_states}
        row, listed = _region_lines(regions_run, region)
        ids = [found for line in listed for found in re.findall(r"\((\d{12})\)$", line)]
        assert named
        assert str(row[2]).endswith(f"; {len(named)} missing, stopped or failing")
        assert set(ids) <= named
        assert len(ids) == min(len(named), 10)
        assert (
            f"AWS Config in {region}: {row[1]:,.0f} accounts recording {row[2]}: {', '.join(listed)}"
            in ticket
        )
    assert f"Not used by the organization (AWS Config in no account): {UNUSED}" in ticket


def test_control_towers_region_deny_lets_config_answer_and_an_scp_that_denies_config_is_denied_by_scp(
    simulated_org: SimulatedOrganization, regions_run: Run
) -> None:
    seeded = simulated_org.seeded
    coverage = {(row[0], row[2]): row[3] for row in regions_run.sheet("Coverage")[1:]}

    assert seeded.regions_denied_by_control_tower
    assert {coverage[where] for where in seeded.regions_denied_by_control_tower} == {"CONFIG_NOT_ENABLED"}
    assert seeded.regions_denied_by_scp
    assert {coverage[where] for where in seeded.regions_denied_by_scp} == {"DENIED_BY_SCP"}


def _region_lines(run: Run, region: str) -> tuple[list[Any], list[str]]:
    """A region's Summary row, and the accounts listed on the rows beneath it."""
    rows = run.sheet("Summary")
    (at,) = [n for n, row in enumerate(rows) if row and row[0] == region]
    listed = []
    for row in rows[at + 1 :]:
        if row[1] != "" or not str(row[0]).strip():
            break
        listed.append(str(row[0]))
    return rows[at], listed
