"""The rule catalogue: one row per control, what it is, who deployed it, where it fails, how to fix it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from config_report.aws.region import rule_info
from config_report.domain.catalogue import build_catalogue, docs_url
from config_report.domain.model import Account, Compliance, Report, RuleInfo, RuleResult
from config_report.domain.rules import CONFORMANCE_PACK
from config_report.simulated import SimulatedOrganization
from config_report.simulated.seed import CIS_PACK, ORGANIZATION_PACK_RULE, PCI_PACK
from factories import PROD, SANDBOX, prod_scan, run_info, sandbox_scan
from runner import Run, run_cli

PACK_RULE = "ebs-snapshot-public-restorable-check"


def test_an_aws_managed_rule_links_to_its_developer_guide_page() -> None:
    info = rule_info({"Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}})

    assert docs_url(info) == (
        "https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-versioning-enabled.html"
    )


def test_a_rule_documented_under_its_name_rather_than_its_identifier_links_there() -> None:
    info = RuleInfo(source_owner="AWS", source_identifier="INCOMING_SSH_DISABLED")

    assert docs_url(info).endswith("/restricted-ssh.html")


def test_custom_rules_and_odd_identifiers_get_no_link() -> None:
    assert docs_url(RuleInfo(source_owner="CUSTOM_LAMBDA", source_identifier="arn:aws:lambda:x")) == ""
    assert docs_url(RuleInfo(source_owner="AWS", source_identifier='=HYPERLINK("x")')) == ""


def test_copies_of_one_control_are_one_entry_with_where_it_runs_and_fails() -> None:
    info = RuleInfo(source_owner="AWS", source_identifier="INCOMING_SSH_DISABLED", description="SSH closed")
    prod, sandbox = prod_scan(), sandbox_scan()
    org_copy = "OrgConfigRule-restricted-ssh-a1b2c3d4"
    prod = replace(
        prod,
        rules=tuple(
            replace(
                r,
                rule_name=org_copy,
                normalized_name="restricted-ssh",
                created_by="config-multiaccountsetup.amazonaws.com",
                info=info,
            )
            if r.rule_name == "restricted-ssh"
            else r
            for r in prod.rules
        ),
        findings=tuple(
            replace(f, normalized_name="restricted-ssh") if f.rule_name == "restricted-ssh" else f
            for f in prod.findings
        ),
    )
    extra = RuleResult(SANDBOX.id, "us-east-1", "restricted-ssh", Compliance.COMPLIANT, info=info)
    sandbox = replace(sandbox, rules=(*sandbox.rules, extra))

    (entry,) = [
        e
        for e in build_catalogue(Report(run=run_info(), scans=(prod, sandbox)))
        if e.name == "restricted-ssh"
    ]

    assert (entry.source, entry.identifier, entry.description) == (
        "AWS managed",
        "INCOMING_SSH_DISABLED",
        "SSH closed",
    )
    assert entry.created_by == "AWS Organizations, the account"
    assert (entry.accounts_deployed, entry.regions_deployed) == (2, 3)
    assert (entry.accounts_failing, entry.resources_failing) == (2, 2)
    assert PROD.id != SANDBOX.id


def test_an_organization_packs_copies_are_one_pack_named_as_the_organization_names_it() -> None:
    control = "s3-bucket-server-side-encryption-enabled"

    def deployed(account: Account, region: str, pack: str) -> RuleResult:
        name = f"{control}-conformance-pack-a1b2c3d4e"
        return RuleResult(
            account.id,
            region,
            name,
            Compliance.COMPLIANT,
            normalized_name=control,
            created_by=CONFORMANCE_PACK,
            conformance_packs=(pack,),
        )

    prod, sandbox = prod_scan(), sandbox_scan()
    prod = replace(
        prod,
        rules=(
            *prod.rules,
            deployed(PROD, "eu-west-1", "OrgConformsPack-acme-security-baseline-h7cmaqcs"),
            deployed(PROD, "us-east-1", "OrgConformsPack-acme-security-baseline-lgjg3vps"),
        ),
    )
    # An account's own pack of the same name is another deployment, changed in that account.
    sandbox = replace(
        sandbox, rules=(*sandbox.rules, deployed(SANDBOX, "us-east-1", "acme-security-baseline"))
    )

    (entry,) = [
        e for e in build_catalogue(Report(run=run_info(), scans=(prod, sandbox))) if e.name == control
    ]

    assert entry.conformance_packs == ("acme-security-baseline", "acme-security-baseline (organization)")
    assert entry.conformance_packs_label() == "acme-security-baseline, acme-security-baseline (organization)"


@pytest.fixture(scope="module")
def published(simulated_org: SimulatedOrganization) -> Run:
    """One `config-report run` of the seeded organization, without faults."""
    simulated_org.faults.reset()
    run = run_cli(simulated_org, "run")
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def _catalogue_header(run: Run) -> list[Any]:
    return run.sheet("Rule catalogue")[0]


def _catalogue_rows(run: Run) -> dict[str, dict[str, Any]]:
    catalogue = run.sheet("Rule catalogue")
    return {row[0]: dict(zip(catalogue[0], row, strict=True)) for row in catalogue[1:]}


def test_the_published_workbook_has_a_catalogue_and_rules_link_to_it(
    simulated_org: SimulatedOrganization, published: Run
) -> None:
    seeded = simulated_org.seeded

    assert _catalogue_header(published)[:3] == ["Rule", "Source", "Identifier"]
    rows = _catalogue_rows(published)
    assert set(rows) == {r.normalized_name for r in seeded.rules}
    ssh = rows["restricted-ssh"]
    assert ssh["Identifier"] == "INCOMING_SSH_DISABLED"
    assert ssh["Docs Link"] == "https://docs.aws.amazon.com/config/latest/developerguide/restricted-ssh.html"
    failing = [f for f in seeded.findings if f.normalized_name == "restricted-ssh"]
    assert ssh["Resources Failing"] == len(failing)
    assert ssh["Accounts Failing"] == len({f.account_id for f in failing})
    assert ssh["Accounts Deployed"] == len(
        {r.account_id for r in seeded.rules if r.normalized_name == "restricted-ssh"}
    )
    xml = published.sheet_xml("Rules")
    assert "location=\"'Rule catalogue'!A" in xml


def test_the_catalogue_describes_each_managed_rule_as_describe_config_rules_does(
    simulated_org: SimulatedOrganization, published: Run
) -> None:
    seeded = simulated_org.seeded
    account = seeded.account_named("acme-payments-prod")
    config = simulated_org.client("config", region=seeded.regions[0], account_id=account.id)
    described = {
        rule["Source"]["SourceIdentifier"]: rule["Description"]
        for page in config.get_paginator("describe_config_rules").paginate()
        for rule in page["ConfigRules"]
    }

    rows = _catalogue_rows(published)
    assert all(row["Description"] for row in rows.values()), "every seeded rule has a description"
    assert rows["restricted-ssh"]["Description"] == described["INCOMING_SSH_DISABLED"]
    assert described["INCOMING_SSH_DISABLED"].startswith(
        "Checks that security groups do not allow inbound SSH"
    )
    for row in rows.values():
        if row["Identifier"] in described:
            assert row["Description"] == described[row["Identifier"]], row["Rule"]


def test_each_catalogue_row_lists_the_conformance_packs_its_rule_belongs_to(
    simulated_org: SimulatedOrganization, published: Run
) -> None:
    seeded = simulated_org.seeded

    # Appended after the columns that were there before it, so none of those moved.
    assert _catalogue_header(published)[-2:] == ["Resources Failing", "Conformance Packs"]
    rows = _catalogue_rows(published)
    # Core accounts deploy the control through the CIS pack, production accounts through PCI DSS.
    assert rows[PACK_RULE]["Conformance Packs"] == f"{CIS_PACK}, {PCI_PACK}"
    assert rows[PACK_RULE]["Created By"] == "a conformance pack"
    assert rows["restricted-ssh"]["Conformance Packs"] == ""
    in_packs = {r.normalized_name for r in seeded.rules if r.conformance_packs}
    assert rows["s3-bucket-public-read-prohibited"]["Conformance Packs"] == f"{CIS_PACK}, {PCI_PACK}"
    in_both = {PACK_RULE, "s3-bucket-public-read-prohibited"}
    in_any = {*in_both, ORGANIZATION_PACK_RULE}  # and the organization pack's control
    assert {name for name, row in rows.items() if row["Conformance Packs"]} == in_packs == in_any


def test_a_spoke_role_without_the_pack_actions_keeps_its_compliance_rows_and_the_catalogue_says_not_read(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    core, prod = seeded.account_named("acme-sec-control"), seeded.account_named("acme-payments-prod")
    simulated_org.faults.configure(deny_config_actions_in=[(prod.id, "DescribeConformancePacks")])
    try:
        run = run_cli(simulated_org, "run", CONFIG_REPORT_ACCOUNTS=f"{core.id},{prod.id}")
    finally:
        simulated_org.faults.reset()

    # Pack membership enriches the catalogue: its absence is no coverage gap (exit 0, not 3).
    assert run.returncode == 0, run.stderr[-3000:]
    rules = run.sheet("Rules")
    read = {(row[0], row[2], row[3]) for row in rules[1:] if row[0] == prod.id}
    assert read == {(r.account_id, r.region, r.rule_name) for r in seeded.rules if r.account_id == prod.id}
    coverage = [dict(zip(run.sheet("Coverage")[0], row, strict=True)) for row in run.sheet("Coverage")[1:]]
    prod_regions = [c for c in coverage if c["Account ID"] == prod.id]
    assert {c["Status"] for c in prod_regions} == {"OK"}
    assert all("conformance packs not read" in c["AWS Message"] for c in prod_regions)
    deployed = len(
        {(r.account_id, r.region) for r in seeded.rules if r.normalized_name == PACK_RULE}
        & {(c["Account ID"], c["Region"]) for c in coverage}
    )
    assert _catalogue_rows(run)[PACK_RULE]["Conformance Packs"] == (
        f"{CIS_PACK}; not read in {len(prod_regions)} of {deployed} account-regions"
    )
    (warning,) = [e for e in run.log_events() if e.get("event") == "conformance_packs.unread"]
    assert warning["action"] == "config:DescribeConformancePacks"
    assert "spoke-read-role" in warning["fix"]


def test_a_region_whose_owners_and_packs_are_both_unread_keeps_both_reasons_in_coverage(
    simulated_org: SimulatedOrganization,
) -> None:
    prod = simulated_org.seeded.account_named("acme-payments-prod")
    denied = [(prod.id, "DescribeConformancePacks"), (prod.id, "SelectResourceConfig")]
    simulated_org.faults.configure(deny_config_actions_in=denied)
    try:
        run = run_cli(simulated_org, "run", CONFIG_REPORT_ACCOUNTS=prod.id)
    finally:
        simulated_org.faults.reset()

    assert run.returncode == 3, run.stderr[-3000:]  # owners unread is a gap, packs unread alone is not
    coverage = [dict(zip(run.sheet("Coverage")[0], row, strict=True)) for row in run.sheet("Coverage")[1:]]
    assert {c["Status"] for c in coverage} == {"ACCESS_DENIED"}
    for row in coverage:
        assert "conformance packs not read" in row["AWS Message"]
        assert "owners not read" in row["AWS Message"]
