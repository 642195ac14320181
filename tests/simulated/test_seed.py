"""The seeder: the organization it builds, read back through the AWS APIs, matches what it says it built."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from config_report.domain.model import Compliance
from config_report.domain.rules import normalize_rule_name
from config_report.simulated import SeededOrganization, SimulatedOrganization, seed_organization
from config_report.simulated.seed import (
    DELETING_RULES,
    EVALUATING_RULE,
    HOSTILE_ACCOUNT_NAME,
    HOSTILE_RULE_NAMES,
    LONG_ANNOTATION,
    PROACTIVE_RULE,
)
from simulated.aws_callers import Caller


@pytest.fixture
def seeded(simulated_org: SimulatedOrganization) -> SeededOrganization:
    return simulated_org.seeded


@pytest.fixture
def org_reader(seeded: SeededOrganization, assume_role: Callable[[str], Caller]) -> Any:
    """Organizations as the scanner sees it: through the org role in the management account."""
    return assume_role(seeded.org_role_arn).client("organizations", region="us-east-1")


def walk(organizations: Any, parent_id: str, path: str) -> Iterator[tuple[str, str, str, str]]:
    """(account ID, name, OU path, status) of every account below `parent_id`."""
    for page in organizations.get_paginator("list_accounts_for_parent").paginate(ParentId=parent_id):
        for account in page["Accounts"]:
            yield account["Id"], account["Name"], path or "Root", account["Status"]
    for page in organizations.get_paginator("list_organizational_units_for_parent").paginate(
        ParentId=parent_id
    ):
        for ou in page["OrganizationalUnits"]:
            yield from walk(organizations, ou["Id"], f"{path}/{ou['Name']}" if path else ou["Name"])


def findings_in_config(config: Any, rule_name: str) -> set[tuple[str, str, str]]:
    paginator = config.get_paginator("get_compliance_details_by_config_rule")
    pages = paginator.paginate(ConfigRuleName=rule_name, ComplianceTypes=["NON_COMPLIANT"], Limit=100)
    return {
        (
            r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceType"],
            r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"],
            r.get("Annotation", ""),
        )
        for page in pages
        for r in page["EvaluationResults"]
    }


def test_the_organization_holds_the_seeded_accounts_with_names_ous_and_status(
    seeded: SeededOrganization, org_reader: Any
) -> None:
    root_id = org_reader.list_roots()["Roots"][0]["Id"]

    listed = set(walk(org_reader, root_id, ""))

    expected = {(a.id, a.name, a.ou, "ACTIVE") for a in seeded.accounts}
    expected |= {(a.id, a.name, a.ou, "SUSPENDED") for a in seeded.suspended_accounts}
    assert listed == expected
    assert {a.ou for a in seeded.accounts} == {
        "Root",
        "Security",
        "Infrastructure",
        "Workloads/Prod",
        "Workloads/NonProd",
        "Sandbox",
    }
    assert len(seeded.accounts) == 25
    assert len(seeded.suspended_accounts) == 2


def test_the_management_account_and_the_hub_are_who_the_docs_say(
    seeded: SeededOrganization, org_reader: Any
) -> None:
    organization = org_reader.describe_organization()["Organization"]

    assert organization["MasterAccountId"] == seeded.management_account_id
    assert seeded.account(seeded.management_account_id).ou == "Root"
    assert seeded.account(seeded.hub.account_id).name.endswith("-sec-control")
    assert seeded.account(seeded.hub.account_id).ou == "Security"


def test_an_account_id_with_leading_zeros_survives_the_round_trip(
    seeded: SeededOrganization, org_reader: Any, assume_role: Callable[[str], Caller]
) -> None:
    account = next(a for a in seeded.accounts if a.id.startswith("00"))

    described = org_reader.describe_account(AccountId=account.id)["Account"]
    spoke = assume_role(f"arn:aws:iam::{account.id}:role/{seeded.spoke_role_name}")

    assert described["Id"] == account.id
    assert spoke.client("sts").get_caller_identity()["Account"] == account.id


def test_suspended_accounts_hold_config_data_but_are_not_in_the_expected_report(
    simulated_org: SimulatedOrganization, seeded: SeededOrganization
) -> None:
    suspended = {a.id for a in seeded.suspended_accounts}
    some = seeded.suspended_accounts[0].id

    rules = simulated_org.client("config", account_id=some).describe_config_rules()["ConfigRules"]

    assert rules
    assert not suspended & {a.id for a in seeded.accounts}
    assert not suspended & {r.account_id for r in seeded.rules}
    assert not suspended & {f.account_id for f in seeded.findings}
    assert not suspended & {c.account_id for c in seeded.coverage()}


def test_config_records_exactly_where_the_seeder_says(
    simulated_org: SimulatedOrganization, seeded: SeededOrganization
) -> None:
    recording, own = set(), set()
    for account in seeded.accounts:
        for region in seeded.regions:
            config = simulated_org.client("config", region=region, account_id=account.id)
            if config.list_configuration_recorders()["ConfigurationRecorderSummaries"]:
                recording.add((account.id, region))
            if config.describe_configuration_recorders()["ConfigurationRecorders"]:
                own.add((account.id, region))

    assert recording == seeded.config_enabled
    assert own == seeded.config_enabled - seeded.service_linked_only
    regions_per_account = {a.id: sum((a.id, r) in recording for r in seeded.regions) for a in seeded.accounts}
    assert 0 in {a.id: sum((a.id, r) in own for r in seeded.regions) for a in seeded.accounts}.values()
    assert 1 in regions_per_account.values()
    assert len(seeded.regions) in regions_per_account.values()


def test_config_reports_every_seeded_rule_with_its_compliance(
    simulated_org: SimulatedOrganization, seeded: SeededOrganization
) -> None:
    read = seeded.config_enabled - seeded.config_stopped - seeded.recorders_failing
    for account_id, region in sorted(read):
        config = simulated_org.client("config", region=region, account_id=account_id)
        pages = config.get_paginator("describe_compliance_by_config_rule").paginate()
        reported = {
            (c["ConfigRuleName"], c["Compliance"]["ComplianceType"], _capped(c["Compliance"]))
            for page in pages
            for c in page["ComplianceByConfigRules"]
        }
        expected = {
            (r.rule_name, r.compliance.value, min(r.noncompliant_resources, 100))
            for r in seeded.rules_in(account_id, region)
        }
        left_out = {
            r.rule_name for r in seeded.skipped_rules if (r.account_id, r.region) == (account_id, region)
        }
        assert {item for item in reported if item[0] not in left_out} == expected, (account_id, region)


def _capped(compliance: dict[str, Any]) -> int:
    count: int = compliance.get("ComplianceContributorCount", {}).get("CappedCount", 0)
    return count


def test_rules_page_and_one_rule_has_more_than_100_noncompliant_resources(
    simulated_org: SimulatedOrganization, seeded: SeededOrganization
) -> None:
    big = max(seeded.rules, key=lambda r: r.noncompliant_resources)
    config = simulated_org.client("config", region=big.region, account_id=big.account_id)

    rule_pages = list(config.get_paginator("describe_config_rules").paginate())
    found = findings_in_config(config, big.rule_name)

    assert big.noncompliant_resources == 130
    assert len(rule_pages) >= 2
    expected = seeded.findings_for(big.account_id, big.region, big.rule_name)
    assert found == {(f.resource_type, f.resource_id, f.annotation) for f in expected}
    assert len(found) == 130


def test_the_seed_has_every_compliance_outcome(seeded: SeededOrganization) -> None:
    outcomes = {r.compliance for r in seeded.rules}

    assert outcomes == {Compliance.COMPLIANT, Compliance.NON_COMPLIANT, Compliance.INSUFFICIENT_DATA}
    assert sum(r.noncompliant_resources for r in seeded.rules) == len(seeded.findings)


def test_hostile_strings_reach_config_unchanged(
    simulated_org: SimulatedOrganization, seeded: SeededOrganization
) -> None:
    hostile = seeded.account_named(HOSTILE_ACCOUNT_NAME)
    config = simulated_org.client("config", region=seeded.regions[0], account_id=hostile.id)

    annotations = {f.annotation for f in seeded.findings}
    resource_ids = {f.resource_id for f in seeded.findings}
    rule_names = {r.rule_name for r in seeded.rules_in(hostile.id, seeded.regions[0])}
    found = set().union(*(findings_in_config(config, name) for name in rule_names))

    assert {a[:1] for a in annotations if a} >= {"=", "+", "-", "@"}
    assert any(not a.isascii() for a in annotations)
    assert len(LONG_ANNOTATION) > 32_767
    assert LONG_ANNOTATION in {annotation for _, _, annotation in found}
    assert {"=1+2", "@admin", "-2", "+cmd"} <= resource_ids
    assert set(HOSTILE_RULE_NAMES) <= rule_names
    assert hostile.name.startswith("=")


def test_roles_and_the_report_bucket_exist(
    simulated_org: SimulatedOrganization, seeded: SeededOrganization
) -> None:
    for account in seeded.accounts + seeded.suspended_accounts:
        iam = simulated_org.client("iam", account_id=account.id)
        trust = iam.get_role(RoleName=seeded.spoke_role_name)["Role"]["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Principal"] == {"AWS": seeded.hub.role_arn}
    management_iam = simulated_org.client("iam", account_id=seeded.management_account_id)
    org_role = management_iam.get_role(RoleName=seeded.org_role_arn.rsplit("/", 1)[1])["Role"]
    hub_role = simulated_org.client("iam").get_role(RoleName=seeded.hub.role_arn.rsplit("/", 1)[1])["Role"]

    assert org_role["Arn"] == seeded.org_role_arn
    assert hub_role["Arn"] == seeded.hub.role_arn
    simulated_org.client("s3").head_bucket(Bucket=seeded.hub.report_bucket)


def test_the_same_seed_builds_the_same_organization(fresh_simulated_org: SimulatedOrganization) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    fresh_simulated_org.reset()
    first = fresh_simulated_org.seed(accounts=8, seed=11, now=now)
    fresh_simulated_org.reset()
    second = fresh_simulated_org.seed(accounts=8, seed=11, now=now)
    fresh_simulated_org.reset()
    other = fresh_simulated_org.seed(accounts=8, seed=12, now=now)

    assert _without_ou_ids(first) == _without_ou_ids(second)
    assert first.findings != other.findings


def _without_ou_ids(seeded: SeededOrganization) -> SeededOrganization:
    """moto draws OU IDs from its own random source; everything else follows the seed."""
    return replace(
        seeded,
        accounts=tuple(replace(a, ou_ids=()) for a in seeded.accounts),
        suspended_accounts=tuple(replace(a, ou_ids=()) for a in seeded.suspended_accounts),
    )


def test_the_smallest_organization_still_has_every_special_case(
    fresh_simulated_org: SimulatedOrganization,
) -> None:
    fresh_simulated_org.reset()
    small = fresh_simulated_org.seed(accounts=6)

    assert len(small.accounts) == 6
    assert any(a.id.startswith("00") for a in small.accounts)
    assert any(r.noncompliant_resources > 100 for r in small.rules)
    assert any(len(small.rules_in(a.id, small.regions[0])) > 25 for a in small.accounts)
    assert {a.id for a in small.accounts} >= {small.hub.account_id, small.management_account_id}
    assert HOSTILE_ACCOUNT_NAME in {a.name for a in small.accounts}


def test_seeding_twice_without_a_reset_is_refused(simulated_org: SimulatedOrganization) -> None:
    with pytest.raises(RuntimeError, match="already seeded"):
        simulated_org.seed()


@pytest.mark.parametrize(
    ("options", "message"),
    [({"accounts": 5}, "at least 6"), ({"suspended": 3}, "between"), ({"regions": ()}, "at least one")],
)
def test_impossible_seedings_are_refused_before_anything_is_built(
    simulated_org: SimulatedOrganization, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        seed_organization(simulated_org, **options)


def test_config_reports_rule_states_modes_and_services_as_aws_does(
    simulated_org: SimulatedOrganization, seeded: SeededOrganization
) -> None:
    big = seeded.accounts[2]
    config = simulated_org.client("config", region=seeded.regions[0], account_id=big.id)

    rules = {
        r["ConfigRuleName"]: r
        for page in config.get_paginator("describe_config_rules").paginate()
        for r in page["ConfigRules"]
    }

    for name, state in DELETING_RULES.items():
        assert rules[name]["ConfigRuleState"] == state
    assert rules[PROACTIVE_RULE]["EvaluationModes"] == [{"Mode": "PROACTIVE"}]
    assert rules[EVALUATING_RULE]["ConfigRuleState"] == "EVALUATING"
    created_by = {r.get("CreatedBy") for r in rules.values()} - {None}
    assert created_by == {
        "securityhub.amazonaws.com",
        "config-multiaccountsetup.amazonaws.com",
        "config-conforms.amazonaws.com",
    }
    suffixed = [name for name, r in rules.items() if r.get("CreatedBy")]
    assert all(normalize_rule_name(name, rules[name]["CreatedBy"]) != name for name in suffixed)


def test_a_stopped_recorder_is_reported_stopped_with_its_stop_time(
    simulated_org: SimulatedOrganization, seeded: SeededOrganization
) -> None:
    ((account_id, region),) = seeded.config_stopped
    config = simulated_org.client("config", region=region, account_id=account_id)

    (status,) = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]

    assert status["recording"] is False
    assert status["lastStopTime"] >= status["lastStartTime"]
    assert config.describe_config_rules()["ConfigRules"], "its rules and results stay, stale"
