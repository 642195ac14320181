"""AWS Config conformance packs on the simulator, over HTTP with boto3, as the API reference describes them.

Each test deploys its packs in an account of its own that the seeder never touched; the last tests
read the seeded organization's packs and the fault layer's hold on the two actions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, PaginationError

from config_report.simulated import FaultLayer, SimulatedOrganization, _moto
from config_report.simulated.compliance import Evaluation
from config_report.simulated.packs import ConformancePack
from config_report.simulated.seed import CIS_PACK, ORGANIZATION_PACK, ORGANIZATION_PACK_RULE, PCI_PACK
from simulated.aws_callers import NO_RETRIES, Caller, error_of, scratch_account_id

WHEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REGION = "eu-west-1"


def deploy(config: Any, account_id: str, pack: str, rules: dict[str, str]) -> None:
    """Deploy `pack` with `rules` (deployed name → the compliance of its one evaluated bucket)."""
    store = _moto.compliance_store(account_id, REGION)
    for name, compliance in rules.items():
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": name,
                "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"},
            }
        )
        if compliance:
            store.put([Evaluation(name, "AWS::S3::Bucket", f"{name}-bucket", compliance, WHEN)])
    _moto.conformance_packs(account_id, REGION).put(ConformancePack(pack, "a1b2c3d4e", tuple(rules), WHEN))


def test_packs_are_described_with_their_arn_and_id(config: Any, account_id: str) -> None:
    deploy(config, account_id, "Operational-Best-Practices-for-CIS", {"s3-a-conformance-pack-a1b2c3d4e": ""})

    (detail,) = config.describe_conformance_packs()["ConformancePackDetails"]

    assert detail["ConformancePackName"] == "Operational-Best-Practices-for-CIS"
    assert detail["ConformancePackId"] == "conformance-pack-a1b2c3d4e"
    assert detail["ConformancePackArn"] == (
        f"arn:aws:config:{REGION}:{account_id}:conformance-pack/Operational-Best-Practices-for-CIS/"
        "conformance-pack-a1b2c3d4e"
    )
    assert detail["LastUpdateRequestedTime"] == WHEN


def test_packs_come_20_per_page_and_no_more(config: Any, account_id: str) -> None:
    for n in range(23):
        deploy(config, account_id, f"Pack-{n:02d}", {f"rule-{n:02d}-conformance-pack-a1b2c3d4e": ""})

    first = config.describe_conformance_packs()
    second = config.describe_conformance_packs(NextToken=first["NextToken"])
    paged = list(
        config.get_paginator("describe_conformance_packs").paginate(PaginationConfig={"PageSize": 5})
    )
    with pytest.raises(ClientError) as too_many:
        config.describe_conformance_packs(Limit=21)

    assert len(first["ConformancePackDetails"]) == 20
    assert len(second["ConformancePackDetails"]) == 3
    assert "NextToken" not in second
    assert [len(p["ConformancePackDetails"]) for p in paged] == [5, 5, 5, 5, 3]
    assert error_of(too_many)[0] == "ValidationException"
    assert "less than or equal to 20" in error_of(too_many)[1]


def test_each_rule_of_a_pack_comes_with_its_compliance(config: Any, account_id: str) -> None:
    rules = {
        "s3-a-conformance-pack-a1b2c3d4e": "NON_COMPLIANT",
        "s3-b-conformance-pack-a1b2c3d4e": "COMPLIANT",
        "s3-c-conformance-pack-a1b2c3d4e": "NOT_APPLICABLE",
        "s3-d-conformance-pack-a1b2c3d4e": "",
    }
    deploy(config, account_id, "Pack", rules)

    answer = config.describe_conformance_pack_compliance(ConformancePackName="Pack")
    noncompliant = config.describe_conformance_pack_compliance(
        ConformancePackName="Pack", Filters={"ComplianceType": "NON_COMPLIANT"}
    )

    assert answer["ConformancePackName"] == "Pack"
    assert answer["ConformancePackRuleComplianceList"] == [
        {
            "ConfigRuleName": "s3-a-conformance-pack-a1b2c3d4e",
            "ComplianceType": "NON_COMPLIANT",
            "Controls": [],
        },
        {"ConfigRuleName": "s3-b-conformance-pack-a1b2c3d4e", "ComplianceType": "COMPLIANT", "Controls": []},
        {
            "ConfigRuleName": "s3-c-conformance-pack-a1b2c3d4e",
            "ComplianceType": "INSUFFICIENT_DATA",
            "Controls": [],
        },
        {
            "ConfigRuleName": "s3-d-conformance-pack-a1b2c3d4e",
            "ComplianceType": "INSUFFICIENT_DATA",
            "Controls": [],
        },
    ]
    assert [r["ConfigRuleName"] for r in noncompliant["ConformancePackRuleComplianceList"]] == [
        "s3-a-conformance-pack-a1b2c3d4e"
    ]


def test_a_packs_rules_page_with_limit_up_to_1000(config: Any, account_id: str) -> None:
    deploy(config, account_id, "Pack", {f"rule-{n}-conformance-pack-a1b2c3d4e": "" for n in range(7)})

    pages = list(
        config.get_paginator("describe_conformance_pack_compliance").paginate(
            ConformancePackName="Pack", PaginationConfig={"PageSize": 3}
        )
    )
    with pytest.raises(ClientError) as too_many:
        config.describe_conformance_pack_compliance(ConformancePackName="Pack", Limit=1001)

    assert [len(p["ConformancePackRuleComplianceList"]) for p in pages] == [3, 3, 1]
    assert error_of(too_many)[0] == "ValidationException"
    assert "less than or equal to 1000" in error_of(too_many)[1]


def test_an_unknown_pack_is_no_such_conformance_pack(config: Any, account_id: str) -> None:
    deploy(config, account_id, "Pack", {"rule-conformance-pack-a1b2c3d4e": ""})

    with pytest.raises(ClientError) as compliance:
        config.describe_conformance_pack_compliance(ConformancePackName="Missing")
    with pytest.raises(ClientError) as described:
        config.describe_conformance_packs(ConformancePackNames=["Pack", "Missing"])

    expected = (
        "NoSuchConformancePackException",
        "You specified one or more conformance packs that do not exist.",
        400,
    )
    assert error_of(compliance) == error_of(described) == expected


def test_a_rule_filter_must_name_rules_of_the_pack(config: Any, account_id: str) -> None:
    deploy(config, account_id, "Pack", {"rule-conformance-pack-a1b2c3d4e": "COMPLIANT"})

    with pytest.raises(ClientError) as excinfo:
        config.describe_conformance_pack_compliance(
            ConformancePackName="Pack", Filters={"ConfigRuleNames": ["other-rule"]}
        )

    assert error_of(excinfo)[0] == "NoSuchConfigRuleInConformancePackException"


def test_a_pack_name_outside_the_pattern_is_a_validation_error(config: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        config.describe_conformance_pack_compliance(ConformancePackName="1-not-a-name")

    assert error_of(excinfo)[0] == "ValidationException"


def test_packs_belong_to_one_account_and_region(
    simulated_org: SimulatedOrganization, config: Any, account_id: str
) -> None:
    deploy(config, account_id, "Pack", {"rule-conformance-pack-a1b2c3d4e": ""})

    elsewhere = simulated_org.client("config", region="us-east-1", account_id=account_id)
    other = simulated_org.client("config", account_id=scratch_account_id())

    assert elsewhere.describe_conformance_packs()["ConformancePackDetails"] == []
    assert other.describe_conformance_packs()["ConformancePackDetails"] == []


def test_the_demo_organization_deploys_one_control_through_two_packs(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    rules_of: dict[tuple[str, str], list[str]] = {}
    for name in ("acme-sec-control", "acme-payments-prod"):
        config = simulated_org.client("config", account_id=seeded.account_named(name).id)
        pages = config.get_paginator("describe_config_rules").paginate()
        deployed = {r["ConfigRuleName"]: r for page in pages for r in page["ConfigRules"]}
        for pack in config.describe_conformance_packs()["ConformancePackDetails"]:
            if pack["ConformancePackName"].startswith("OrgConformsPack-"):
                continue  # the organization's pack, deployed to every workload account: tested below
            listed = config.describe_conformance_pack_compliance(
                ConformancePackName=pack["ConformancePackName"]
            )
            rules = [r["ConfigRuleName"] for r in listed["ConformancePackRuleComplianceList"]]
            assert {deployed[r]["CreatedBy"] for r in rules} == {"config-conforms.amazonaws.com"}
            rules_of[name, pack["ConformancePackName"]] = sorted(
                r.split("-conformance-pack-")[0] for r in rules
            )
    sandbox = simulated_org.client("config", account_id=seeded.account_named("sandbox-alice").id)

    # The CIS pack in core accounts, both packs in production ones; each pack's copy of the public-read
    # control is a rule of its own there, failing the same buckets.
    assert rules_of == {
        ("acme-sec-control", CIS_PACK): ["ebs-snapshot-public-restorable-check"],
        ("acme-payments-prod", CIS_PACK): ["s3-bucket-public-read-prohibited"],
        ("acme-payments-prod", PCI_PACK): [
            "ebs-snapshot-public-restorable-check",
            "s3-bucket-public-read-prohibited",
        ],
    }
    assert sandbox.describe_conformance_packs()["ConformancePackDetails"] == []


def test_an_organization_pack_is_a_pack_in_each_workload_account_and_region_under_a_suffix_of_its_own(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    own_recorder = seeded.config_enabled - seeded.service_linked_only
    copies: dict[tuple[str, str], tuple[str, list[str]]] = {}
    created_by: set[str] = set()
    for account_id, region in sorted(own_recorder):
        config = simulated_org.client("config", region=region, account_id=account_id)
        for pack in config.describe_conformance_packs()["ConformancePackDetails"]:
            name = pack["ConformancePackName"]
            if name.startswith("OrgConformsPack-"):
                listed = config.describe_conformance_pack_compliance(ConformancePackName=name)
                rules = [r["ConfigRuleName"] for r in listed["ConformancePackRuleComplianceList"]]
                copies[account_id, region] = (name, rules)
                deployed = config.describe_config_rules(ConfigRuleNames=rules)["ConfigRules"]
                created_by.update(r["CreatedBy"] for r in deployed)
    workloads = {a.id for a in seeded.accounts if a.ou.startswith("Workloads/")}

    # Every region where a workload account's own recorder records, and nowhere else.
    assert set(copies) == {(account, region) for account, region in own_recorder if account in workloads}
    names = [name for name, _ in copies.values()]
    copy_of_pack = re.compile(rf"OrgConformsPack-{ORGANIZATION_PACK}-[a-z0-9]{{8}}")
    assert all(copy_of_pack.fullmatch(name) for name in names)
    assert len(set(names)) == len(names) > len(seeded.regions)  # a suffix per account and region
    copy_of_rule = re.compile(rf"{ORGANIZATION_PACK_RULE}-conformance-pack-[a-z0-9]{{9}}")
    assert all(len(rules) == 1 and copy_of_rule.fullmatch(rules[0]) for _, rules in copies.values())
    assert created_by == {"config-conforms.amazonaws.com"}
    # What a correct report holds is what the API answers: each copy of the rule in its copy of the pack.
    expected = {
        (r.account_id, r.region): r.conformance_packs
        for r in seeded.rules
        if r.conformance_packs and r.conformance_packs[0].startswith("OrgConformsPack-")
    }
    assert expected == {where: (name,) for where, (name, _) in copies.items()}


@pytest.fixture
def spoke(simulated_org: SimulatedOrganization, assume_role: Callable[[str], Caller]) -> Caller:
    seeded = simulated_org.seeded
    account = seeded.account_named("acme-payments-prod")
    return assume_role(f"arn:aws:iam::{account.id}:role/{seeded.spoke_role_name}")


def test_the_pack_actions_alone_can_be_denied_as_to_an_older_spoke_role(
    simulated_org: SimulatedOrganization, faults: FaultLayer, spoke: Caller
) -> None:
    account = simulated_org.seeded.account_named("acme-payments-prod")
    faults.configure(deny_config_actions_in=[(account.id, "DescribeConformancePacks")])
    config = spoke.client("config", config=NO_RETRIES)

    with pytest.raises(ClientError) as excinfo:
        config.describe_conformance_packs()
    rules = config.describe_config_rules()
    compliance = config.describe_conformance_pack_compliance(ConformancePackName=PCI_PACK)

    code, message, status = error_of(excinfo)
    assert (code, status) == ("AccessDeniedException", 400)
    assert "config:DescribeConformancePacks" in message
    assert rules["ConfigRules"]
    assert compliance["ConformancePackRuleComplianceList"]


def test_pack_reads_are_throttled_and_endlessly_paged_like_every_config_read(
    simulated_org: SimulatedOrganization, faults: FaultLayer, spoke: Caller
) -> None:
    account = simulated_org.seeded.account_named("acme-payments-prod")
    faults.configure(config_throttle_rate=1.0, seed=3)
    with pytest.raises(ClientError) as throttled:
        spoke.client("config", config=NO_RETRIES).describe_conformance_packs()
    faults.configure(config_throttle_rate=0.0, endless_pages_in=[(account.id, REGION)])

    with pytest.raises(PaginationError):
        list(spoke.client("config", config=NO_RETRIES).get_paginator("describe_conformance_packs").paginate())

    assert error_of(throttled)[0] == "ThrottlingException"
