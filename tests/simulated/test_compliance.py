"""AWS Config's compliance APIs on the simulator, over HTTP with boto3, against AWS's documented behaviour.

Each test works in an account of its own that the seeder never touched, so the shared simulator's
seeded organization is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from config_report.simulated import SimulatedOrganization, _moto
from config_report.simulated.compliance import EvaluationFailure, result_token
from simulated.aws_callers import scratch_account_id

WHEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def add_rule(config: Any, name: str) -> None:
    rule = {
        "ConfigRuleName": name,
        "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"},
    }
    config.put_config_rule(ConfigRule=rule)


def evaluation(resource_id: str, compliance: str, annotation: str = "") -> dict[str, Any]:
    """One PutEvaluations item for an S3 bucket, evaluated at WHEN."""
    item: dict[str, Any] = {
        "ComplianceResourceType": "AWS::S3::Bucket",
        "ComplianceResourceId": resource_id,
        "ComplianceType": compliance,
        "OrderingTimestamp": WHEN,
    }
    if annotation:
        item["Annotation"] = annotation
    return item


def evaluate(config: Any, rule: str, results: Iterable[tuple[str, str, str]]) -> None:
    """PutEvaluations for `rule`: (resource ID, compliance, annotation) triples, 100 per call."""
    evaluations = [evaluation(*result) for result in results]
    for start in range(0, len(evaluations), 100):
        config.put_evaluations(Evaluations=evaluations[start : start + 100], ResultToken=result_token(rule))


def buckets(count: int, compliance: str) -> list[tuple[str, str, str]]:
    return [(f"bucket-{compliance.lower()}-{n:03d}", compliance, "") for n in range(count)]


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def rule_compliance(config: Any, rule: str) -> dict[str, Any]:
    (item,) = config.describe_compliance_by_config_rule(ConfigRuleNames=[rule])["ComplianceByConfigRules"]
    compliance: dict[str, Any] = item["Compliance"]
    return compliance


def test_put_evaluations_are_read_back_by_get_compliance_details(config: Any) -> None:
    add_rule(config, "s3-bucket-versioning-enabled")
    evaluate(config, "s3-bucket-versioning-enabled", [("logs-bucket", "NON_COMPLIANT", "Versioning is off.")])

    (result,) = config.get_compliance_details_by_config_rule(ConfigRuleName="s3-bucket-versioning-enabled")[
        "EvaluationResults"
    ]

    qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
    assert (qualifier["ConfigRuleName"], qualifier["ResourceType"], qualifier["ResourceId"]) == (
        "s3-bucket-versioning-enabled",
        "AWS::S3::Bucket",
        "logs-bucket",
    )
    assert result["ComplianceType"] == "NON_COMPLIANT"
    assert result["Annotation"] == "Versioning is off."
    assert result["ResultRecordedTime"] == WHEN
    assert result["EvaluationResultIdentifier"]["OrderingTimestamp"] == WHEN


def test_a_newer_evaluation_of_the_same_resource_replaces_the_older(config: Any) -> None:
    add_rule(config, "rule")
    evaluate(config, "rule", [("b", "NON_COMPLIANT", "")])
    evaluate(config, "rule", [("b", "COMPLIANT", "")])

    results = config.get_compliance_details_by_config_rule(ConfigRuleName="rule")["EvaluationResults"]

    assert [r["ComplianceType"] for r in results] == ["COMPLIANT"]


def test_put_evaluations_in_test_mode_stores_nothing(config: Any) -> None:
    add_rule(config, "rule")

    answer = config.put_evaluations(
        Evaluations=[evaluation("b", "NON_COMPLIANT")], ResultToken=result_token("rule"), TestMode=True
    )

    assert answer["FailedEvaluations"] == []
    assert config.get_compliance_details_by_config_rule(ConfigRuleName="rule")["EvaluationResults"] == []


@pytest.mark.parametrize(
    ("evaluations", "token", "code"),
    [
        ([evaluation("b", "INSUFFICIENT_DATA")], "rule", "InvalidParameterValueException"),
        ([evaluation("b", "COMPLIANT", "x" * 257)], "rule", "ValidationException"),
        ([evaluation(f"b{n}", "COMPLIANT") for n in range(101)], "rule", "ValidationException"),
        ([evaluation("b", "COMPLIANT")], "no-such-rule", "InvalidResultTokenException"),
    ],
    ids=["insufficient-data", "annotation-over-256", "over-100-evaluations", "unknown-rule"],
)
def test_put_evaluations_refuses_what_aws_refuses(
    config: Any, evaluations: list[dict[str, Any]], token: str, code: str
) -> None:
    add_rule(config, "rule")

    with pytest.raises(ClientError) as excinfo:
        config.put_evaluations(Evaluations=evaluations, ResultToken=result_token(token))

    assert error_of(excinfo) == (code, 400)
    assert config.get_compliance_details_by_config_rule(ConfigRuleName="rule")["EvaluationResults"] == []


def test_rules_and_their_compliance_are_listed_25_per_page(config: Any) -> None:
    for n in range(30):
        add_rule(config, f"rule-{n:02d}")

    rule_pages = list(config.get_paginator("describe_config_rules").paginate())
    compliance_pages = list(config.get_paginator("describe_compliance_by_config_rule").paginate())

    assert [len(p["ConfigRules"]) for p in rule_pages] == [25, 5]
    assert [len(p["ComplianceByConfigRules"]) for p in compliance_pages] == [25, 5]
    listed = [c["ConfigRuleName"] for p in compliance_pages for c in p["ComplianceByConfigRules"]]
    assert listed == [f"rule-{n:02d}" for n in range(30)]


def test_a_rule_is_noncompliant_if_any_resource_is_compliant_if_some_is_and_else_insufficient_data(
    config: Any,
) -> None:
    for rule in ("mixed", "clean", "not-applicable", "never-evaluated"):
        add_rule(config, rule)
    evaluate(
        config,
        "mixed",
        [*buckets(3, "COMPLIANT"), *buckets(2, "NON_COMPLIANT"), *buckets(1, "NOT_APPLICABLE")],
    )
    evaluate(config, "clean", [*buckets(2, "COMPLIANT"), *buckets(2, "NOT_APPLICABLE")])
    evaluate(config, "not-applicable", buckets(2, "NOT_APPLICABLE"))

    assert rule_compliance(config, "mixed") == {
        "ComplianceType": "NON_COMPLIANT",
        "ComplianceContributorCount": {"CappedCount": 2, "CapExceeded": False},
    }
    assert rule_compliance(config, "clean") == {"ComplianceType": "COMPLIANT"}
    assert rule_compliance(config, "not-applicable") == {"ComplianceType": "INSUFFICIENT_DATA"}
    assert rule_compliance(config, "never-evaluated") == {"ComplianceType": "INSUFFICIENT_DATA"}


def test_compliance_by_rule_can_be_filtered_by_compliance_type(config: Any) -> None:
    for rule in ("bad", "good"):
        add_rule(config, rule)
    evaluate(config, "bad", buckets(1, "NON_COMPLIANT"))
    evaluate(config, "good", buckets(1, "COMPLIANT"))

    listed = config.describe_compliance_by_config_rule(ComplianceTypes=["NON_COMPLIANT"])[
        "ComplianceByConfigRules"
    ]

    assert [c["ConfigRuleName"] for c in listed] == ["bad"]


@pytest.mark.parametrize(("noncompliant", "capped", "exceeded"), [(100, 100, False), (130, 100, True)])
def test_the_contributor_count_stops_at_100(
    config: Any, noncompliant: int, capped: int, exceeded: bool
) -> None:
    add_rule(config, "encrypted-volumes")
    evaluate(config, "encrypted-volumes", buckets(noncompliant, "NON_COMPLIANT"))

    count = rule_compliance(config, "encrypted-volumes")["ComplianceContributorCount"]

    assert count == {"CappedCount": capped, "CapExceeded": exceeded}


def test_details_come_10_per_page_by_default_and_up_to_100_with_limit(config: Any) -> None:
    add_rule(config, "rule")
    evaluate(config, "rule", [*buckets(130, "NON_COMPLIANT"), *buckets(5, "COMPLIANT")])
    paginator = config.get_paginator("get_compliance_details_by_config_rule")

    default_pages = list(paginator.paginate(ConfigRuleName="rule", ComplianceTypes=["NON_COMPLIANT"]))
    full_pages = list(paginator.paginate(ConfigRuleName="rule", ComplianceTypes=["NON_COMPLIANT"], Limit=100))

    assert [len(p["EvaluationResults"]) for p in default_pages] == [10] * 13
    assert [len(p["EvaluationResults"]) for p in full_pages] == [100, 30]
    ids = [
        r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]
        for p in full_pages
        for r in p["EvaluationResults"]
    ]
    assert sorted(ids) == [f"bucket-non_compliant-{n:03d}" for n in range(130)]


def test_a_details_limit_above_100_is_a_validation_error(config: Any) -> None:
    add_rule(config, "rule")

    with pytest.raises(ClientError) as excinfo:
        config.get_compliance_details_by_config_rule(ConfigRuleName="rule", Limit=101)

    assert error_of(excinfo) == ("ValidationException", 400)
    assert "less than or equal to 100" in excinfo.value.response["Error"]["Message"]


def test_insufficient_data_cannot_filter_details(config: Any) -> None:
    add_rule(config, "rule")

    with pytest.raises(ClientError) as excinfo:
        config.get_compliance_details_by_config_rule(
            ConfigRuleName="rule", ComplianceTypes=["INSUFFICIENT_DATA"]
        )

    assert error_of(excinfo) == ("InvalidParameterValueException", 400)


def test_an_unknown_rule_is_no_such_config_rule(config: Any) -> None:
    add_rule(config, "rule")

    with pytest.raises(ClientError) as details:
        config.get_compliance_details_by_config_rule(ConfigRuleName="missing")
    with pytest.raises(ClientError) as by_rule:
        config.describe_compliance_by_config_rule(ConfigRuleNames=["rule", "missing"])
    with pytest.raises(ClientError) as status:
        config.describe_config_rule_evaluation_status(ConfigRuleNames=["missing"])

    assert {error_of(details), error_of(by_rule), error_of(status)} == {("NoSuchConfigRuleException", 400)}


def test_a_bad_next_token_is_invalid_next_token(config: Any) -> None:
    add_rule(config, "rule")

    with pytest.raises(ClientError) as details:
        config.get_compliance_details_by_config_rule(ConfigRuleName="rule", NextToken="forged")
    with pytest.raises(ClientError) as by_rule:
        config.describe_compliance_by_config_rule(NextToken="forged")
    with pytest.raises(ClientError) as rules:
        config.describe_config_rules(NextToken="forged")

    assert {error_of(details), error_of(by_rule), error_of(rules)} == {("InvalidNextTokenException", 400)}


def test_evaluations_belong_to_one_account_and_region(
    simulated_org: SimulatedOrganization, config: Any, account_id: str
) -> None:
    add_rule(config, "rule")
    evaluate(config, "rule", buckets(1, "NON_COMPLIANT"))
    other_region = simulated_org.client("config", region="us-east-1", account_id=account_id)
    other_account = simulated_org.client("config", account_id=scratch_account_id())

    for elsewhere in (other_region, other_account):
        add_rule(elsewhere, "rule")
        assert (
            elsewhere.get_compliance_details_by_config_rule(ConfigRuleName="rule")["EvaluationResults"] == []
        )
        assert rule_compliance(elsewhere, "rule") == {"ComplianceType": "INSUFFICIENT_DATA"}
    assert rule_compliance(config, "rule")["ComplianceType"] == "NON_COMPLIANT"


def test_compliance_by_resource_counts_the_rules_a_resource_fails(config: Any) -> None:
    for rule in ("versioning", "encryption", "logging"):
        add_rule(config, rule)
    evaluate(config, "versioning", [("shared", "NON_COMPLIANT", ""), ("tidy", "COMPLIANT", "")])
    evaluate(config, "encryption", [("shared", "NON_COMPLIANT", ""), ("tidy", "COMPLIANT", "")])
    evaluate(config, "logging", [("shared", "COMPLIANT", ""), ("gone", "NOT_APPLICABLE", "")])

    listed = config.describe_compliance_by_resource(ResourceType="AWS::S3::Bucket")["ComplianceByResources"]

    assert {r["ResourceId"]: r["Compliance"] for r in listed} == {
        "gone": {"ComplianceType": "INSUFFICIENT_DATA"},
        "shared": {
            "ComplianceType": "NON_COMPLIANT",
            "ComplianceContributorCount": {"CappedCount": 2, "CapExceeded": False},
        },
        "tidy": {"ComplianceType": "COMPLIANT"},
    }


def test_compliance_by_resource_needs_a_type_with_an_id(config: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        config.describe_compliance_by_resource(ResourceId="shared")

    assert error_of(excinfo) == ("InvalidParameterValueException", 400)


def test_the_compliance_summary_counts_compliant_and_noncompliant_rules(config: Any) -> None:
    for n in range(27):
        add_rule(config, f"bad-{n:02d}")
        evaluate(config, f"bad-{n:02d}", buckets(1, "NON_COMPLIANT"))
    add_rule(config, "good")
    evaluate(config, "good", buckets(1, "COMPLIANT"))

    summary = config.get_compliance_summary_by_config_rule()["ComplianceSummary"]

    assert summary["CompliantResourceCount"] == {"CappedCount": 1, "CapExceeded": False}
    assert summary["NonCompliantResourceCount"] == {"CappedCount": 25, "CapExceeded": True}


def test_evaluation_status_says_which_rules_were_evaluated(config: Any) -> None:
    for rule in ("evaluated", "waiting"):
        add_rule(config, rule)
    evaluate(config, "evaluated", buckets(1, "COMPLIANT"))

    statuses = config.describe_config_rule_evaluation_status()["ConfigRulesEvaluationStatus"]

    by_name = {s["ConfigRuleName"]: s for s in statuses}
    assert by_name["evaluated"]["FirstEvaluationStarted"] is True
    assert by_name["evaluated"]["LastSuccessfulEvaluationTime"] == WHEN
    assert by_name["waiting"]["FirstEvaluationStarted"] is False
    assert "LastSuccessfulEvaluationTime" not in by_name["waiting"]


def test_evaluation_status_comes_50_rules_per_page_and_no_more(config: Any) -> None:
    for n in range(60):
        add_rule(config, f"rule-{n:02d}")

    pages = list(config.get_paginator("describe_config_rule_evaluation_status").paginate())
    with pytest.raises(ClientError) as excinfo:
        config.describe_config_rule_evaluation_status(Limit=51)

    assert [len(p["ConfigRulesEvaluationStatus"]) for p in pages] == [50, 10]
    assert error_of(excinfo) == ("ValidationException", 400)


def test_evaluation_status_reports_the_last_failure_with_its_error(
    config: Any, simulated_org: SimulatedOrganization, account_id: str
) -> None:
    add_rule(config, "failing")
    evaluate(config, "failing", buckets(1, "COMPLIANT"))
    failed_at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    failure = EvaluationFailure(failed_at, "AccessDenied", "the service-linked role lacks permission")
    _moto.compliance_store(account_id, "eu-west-1").fail("failing", failure)

    (status,) = config.describe_config_rule_evaluation_status()["ConfigRulesEvaluationStatus"]

    assert status["LastSuccessfulEvaluationTime"] == WHEN
    assert status["LastFailedEvaluationTime"] == status["LastFailedInvocationTime"] == failed_at
    assert (status["LastErrorCode"], status["LastErrorMessage"]) == (
        failure.error_code,
        failure.error_message,
    )
