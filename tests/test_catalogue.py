"""The rule catalogue: one row per control, what it is, who deployed it, where it fails, how to fix it."""

from __future__ import annotations

from dataclasses import replace

from config_report.catalogue import build_catalogue, docs_url, rule_info
from config_report.model import Compliance, Report, RuleInfo, RuleResult
from config_report.simulated import SimulatedOrganization
from factories import PROD, SANDBOX, prod_scan, run_info, sandbox_scan
from runner import run_cli


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


def test_the_published_workbook_has_a_catalogue_and_rules_link_to_it(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded

    run = run_cli(simulated_org, "run")

    assert run.returncode == 0, run.stderr[-3000:]
    catalogue = run.sheet("Rule catalogue")
    header = catalogue[0]
    assert header[:3] == ["Rule", "Source", "Identifier"]
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in catalogue[1:]}
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
    xml = run.sheet_xml("Rules")
    assert "location=\"'Rule catalogue'!A" in xml
