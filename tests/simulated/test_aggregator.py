"""The configuration aggregator on the simulator, over HTTP with boto3, as the API reference describes it:
page sizes and limits, filters, errors, the sources' statuses, a failed source, a lagging one, and the
two advanced queries config-report sends.

Tests read the seeded organization's aggregator; those that fail or lag a source reset it after.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from config_report.domain.model import GLOBAL_RESOURCE_TYPES, ResourceRecord
from config_report.simulated import SimulatedOrganization, evolve
from config_report.simulated.aggregator_seed import (
    AGGREGATION_ERROR,
    AGGREGATION_ERROR_CODE,
    SeededAggregator,
)
from config_report.simulated.seed import BIG_RULE_NAME

COMPLIANCE_QUERY = (
    "SELECT accountId, awsRegion, configuration.targetResourceId, configuration.targetResourceType, "
    "configuration.configRuleList, configurationItemCaptureTime "
    "WHERE resourceType = 'AWS::Config::ResourceCompliance' "
    "AND configuration.complianceType = 'NON_COMPLIANT'"
)


@pytest.fixture
def aggregator(simulated_org: SimulatedOrganization) -> Iterator[SeededAggregator]:
    """The seeded aggregator, healthy and in step again after the test."""
    yield simulated_org.aggregator
    simulated_org.aggregator.reset()


@pytest.fixture
def config(simulated_org: SimulatedOrganization, aggregator: SeededAggregator) -> Any:
    """Config in the aggregator's account and region."""
    return simulated_org.client("config", region=aggregator.region, account_id=aggregator.account_id)


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def every_page(config: Any, operation: str, key: str, **params: Any) -> list[list[Any]]:
    pages = []
    for page in config.get_paginator(operation).paginate(**params):
        pages.append(page[key])
    return pages


def compliance_items(config: Any, aggregator: SeededAggregator, narrowed: str = "") -> list[dict[str, Any]]:
    """Every result of the compliance query (`narrowed` by a clause), pages of 100, parsed."""
    pages = every_page(
        config,
        "select_aggregate_resource_config",
        "Results",
        ConfigurationAggregatorName=aggregator.name,
        Expression=COMPLIANCE_QUERY + narrowed,
        PaginationConfig={"PageSize": 100},
    )
    return [json.loads(line) for page in pages for line in page]


def test_the_sources_status_lists_the_organization_and_every_member_account_and_region(
    simulated_org: SimulatedOrganization, config: Any, aggregator: SeededAggregator
) -> None:
    seeded = simulated_org.seeded
    (page,) = every_page(
        config,
        "describe_configuration_aggregator_sources_status",
        "AggregatedSourceStatusList",
        ConfigurationAggregatorName=aggregator.name,
    )

    kinds = Counter(entry["SourceType"] for entry in page)
    accounts = {(e["SourceId"], e["AwsRegion"]) for e in page if e["SourceType"] == "ACCOUNT"}
    assert kinds == {
        "ORGANIZATION": len(seeded.regions),
        "ACCOUNT": len(seeded.accounts) * len(seeded.regions),
    }
    assert accounts == {(a.id, r) for a in seeded.accounts for r in seeded.regions}
    by_place = {(e["SourceId"], e["AwsRegion"]): e["LastUpdateStatus"] for e in page}
    for account in seeded.accounts:
        for region in seeded.regions:
            recording = seeded.coverage_status(account.id, region).value == "OK"
            assert by_place[account.id, region] == ("SUCCEEDED" if recording else "OUTDATED"), (
                account,
                region,
            )


def test_the_sources_status_pages_at_most_100_and_filters_on_the_update_status(
    config: Any, aggregator: SeededAggregator
) -> None:
    name = aggregator.name
    pages = every_page(
        config,
        "describe_configuration_aggregator_sources_status",
        "AggregatedSourceStatusList",
        ConfigurationAggregatorName=name,
        PaginationConfig={"PageSize": 10},
    )
    outdated = config.describe_configuration_aggregator_sources_status(
        ConfigurationAggregatorName=name, UpdateStatus=["OUTDATED"]
    )["AggregatedSourceStatusList"]

    assert [len(p) for p in pages[:-1]] == [10] * (len(pages) - 1)
    assert outdated
    assert all(e["LastUpdateStatus"] == "OUTDATED" for e in outdated)
    with pytest.raises(ClientError) as excinfo:
        config.describe_configuration_aggregator_sources_status(ConfigurationAggregatorName=name, Limit=101)
    assert error_of(excinfo) == (
        "InvalidLimitException",
        "The specified limit is outside the allowable range.",
    )


def test_a_failed_source_says_so_with_awss_error_and_when(
    simulated_org: SimulatedOrganization, config: Any, aggregator: SeededAggregator
) -> None:
    account = simulated_org.seeded.accounts[2].id
    region = simulated_org.seeded.regions[0]
    failed_at = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    aggregator.fail(account, region, at=failed_at)

    (entry,) = config.describe_configuration_aggregator_sources_status(
        ConfigurationAggregatorName=aggregator.name, UpdateStatus=["FAILED"]
    )["AggregatedSourceStatusList"]

    assert entry["SourceId"] == account
    assert entry["AwsRegion"] == region
    assert entry["LastUpdateTime"] == failed_at
    assert (entry["LastErrorCode"], entry["LastErrorMessage"]) == (AGGREGATION_ERROR_CODE, AGGREGATION_ERROR)


def test_compliance_by_rule_lists_only_rules_with_results_1000_per_page_with_their_capped_counts(
    simulated_org: SimulatedOrganization, config: Any, aggregator: SeededAggregator
) -> None:
    pages = every_page(
        config,
        "describe_aggregate_compliance_by_config_rules",
        "AggregateComplianceByConfigRules",
        ConfigurationAggregatorName=aggregator.name,
    )
    items = [item for page in pages for item in page]
    big_account = simulated_org.seeded.accounts[2].id
    home = simulated_org.seeded.regions[0]
    (big,) = [
        i
        for i in items
        if (i["AccountId"], i["AwsRegion"], i["ConfigRuleName"]) == (big_account, home, BIG_RULE_NAME)
    ]

    assert len(pages) > 1
    assert len(pages[0]) == 1000
    assert {i["Compliance"]["ComplianceType"] for i in items} == {"COMPLIANT", "NON_COMPLIANT"}
    assert big["Compliance"]["ComplianceContributorCount"] == {"CappedCount": 100, "CapExceeded": True}
    # A rule with no results (INSUFFICIENT_DATA through its own account) is not displayed.
    insufficient = {
        (r.account_id, r.region, r.rule_name)
        for r in simulated_org.seeded.rules
        if r.compliance.value == "INSUFFICIENT_DATA"
    }
    assert insufficient
    assert not insufficient & {(i["AccountId"], i["AwsRegion"], i["ConfigRuleName"]) for i in items}


def test_compliance_by_rule_filters_on_account_region_rule_and_compliance(
    simulated_org: SimulatedOrganization, config: Any, aggregator: SeededAggregator
) -> None:
    account = simulated_org.seeded.accounts[2].id
    region = simulated_org.seeded.regions[0]
    items = config.describe_aggregate_compliance_by_config_rules(
        ConfigurationAggregatorName=aggregator.name,
        Filters={"AccountId": account, "AwsRegion": region, "ComplianceType": "NON_COMPLIANT"},
    )["AggregateComplianceByConfigRules"]
    (one,) = config.describe_aggregate_compliance_by_config_rules(
        ConfigurationAggregatorName=aggregator.name,
        Filters={"AccountId": account, "AwsRegion": region, "ConfigRuleName": BIG_RULE_NAME},
    )["AggregateComplianceByConfigRules"]

    expected = {
        r.rule_name
        for r in simulated_org.seeded.rules_in(account, region)
        if r.compliance.value == "NON_COMPLIANT"
    }
    assert {i["ConfigRuleName"] for i in items} == expected
    assert one["ConfigRuleName"] == BIG_RULE_NAME
    with pytest.raises(ClientError) as excinfo:
        config.describe_aggregate_compliance_by_config_rules(
            ConfigurationAggregatorName=aggregator.name, Filters={"ComplianceType": "NOT_APPLICABLE"}
        )
    assert error_of(excinfo)[0] == "ValidationException"


def test_details_default_to_50_a_page_allow_100_and_carry_the_source(
    simulated_org: SimulatedOrganization, config: Any, aggregator: SeededAggregator
) -> None:
    account = simulated_org.seeded.accounts[2].id
    region = simulated_org.seeded.regions[0]
    rule = {
        "ConfigurationAggregatorName": aggregator.name,
        "ConfigRuleName": BIG_RULE_NAME,
        "AccountId": account,
        "AwsRegion": region,
    }
    default = config.get_aggregate_compliance_details_by_config_rule(**rule)
    pages = every_page(
        config,
        "get_aggregate_compliance_details_by_config_rule",
        "AggregateEvaluationResults",
        ComplianceType="NON_COMPLIANT",
        PaginationConfig={"PageSize": 100},
        **rule,
    )

    assert len(default["AggregateEvaluationResults"]) == 50
    assert "NextToken" in default
    assert [len(p) for p in pages] == [100, 30]
    first = pages[0][0]
    assert (first["AccountId"], first["AwsRegion"], first["ComplianceType"]) == (
        account,
        region,
        "NON_COMPLIANT",
    )
    expected = {f.resource_id for f in simulated_org.seeded.findings_for(account, region, BIG_RULE_NAME)}
    got = {
        r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] for p in pages for r in p
    }
    assert got == expected
    with pytest.raises(ClientError) as excinfo:
        config.get_aggregate_compliance_details_by_config_rule(Limit=101, **rule)
    assert error_of(excinfo)[0] == "InvalidLimitException"


def test_an_unknown_aggregator_a_bad_name_and_a_forged_token_are_refused_as_aws_refuses_them(
    config: Any, aggregator: SeededAggregator
) -> None:
    with pytest.raises(ClientError) as unknown:
        config.describe_aggregate_compliance_by_config_rules(ConfigurationAggregatorName="not-there")
    with pytest.raises(ClientError) as bad_name:
        config.describe_configuration_aggregator_sources_status(ConfigurationAggregatorName="no spaces")
    with pytest.raises(ClientError) as forged:
        config.describe_aggregate_compliance_by_config_rules(
            ConfigurationAggregatorName=aggregator.name, NextToken="forged"
        )

    assert error_of(unknown) == (
        "NoSuchConfigurationAggregatorException",
        "The configuration aggregator does not exist. Check the configuration aggregator name and try again.",
    )
    assert error_of(bad_name)[0] == "ValidationException"
    assert error_of(forged) == ("InvalidNextTokenException", "The nextToken provided is invalid")


def test_a_lagging_source_keeps_its_copy_while_its_account_changes(
    simulated_org: SimulatedOrganization, config: Any, aggregator: SeededAggregator
) -> None:
    seeded = simulated_org.seeded
    finding = next(f for f in seeded.findings if f.account_id == seeded.accounts[6].id)
    copied_at = datetime.now(UTC) - timedelta(hours=2)
    aggregator.lag(finding.account_id, finding.region, at=copied_at)
    evolve.fix([finding], at=datetime.now(UTC))
    try:
        details = config.get_aggregate_compliance_details_by_config_rule(
            ConfigurationAggregatorName=aggregator.name,
            ConfigRuleName=finding.rule_name,
            AccountId=finding.account_id,
            AwsRegion=finding.region,
            ComplianceType="NON_COMPLIANT",
        )["AggregateEvaluationResults"]
        (entry,) = [
            e
            for e in config.describe_configuration_aggregator_sources_status(
                ConfigurationAggregatorName=aggregator.name
            )["AggregatedSourceStatusList"]
            if (e["SourceId"], e["AwsRegion"]) == (finding.account_id, finding.region)
        ]
    finally:
        evolve.break_resource(finding, at=datetime.now(UTC))

    ids = {d["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] for d in details}
    assert finding.resource_id in ids
    assert (entry["LastUpdateStatus"], entry["LastUpdateTime"]) == ("SUCCEEDED", copied_at)


def test_the_compliance_query_returns_each_non_compliant_resource_25_a_page_by_default(
    simulated_org: SimulatedOrganization, config: Any, aggregator: SeededAggregator
) -> None:
    first = config.select_aggregate_resource_config(
        ConfigurationAggregatorName=aggregator.name, Expression=COMPLIANCE_QUERY
    )
    results = compliance_items(config, aggregator)

    assert len(first["Results"]) == 25
    assert [f["Name"] for f in first["QueryInfo"]["SelectFields"]][:3] == [
        "accountId",
        "awsRegion",
        "configuration.targetResourceId",
    ]
    failing = set()
    for result in results:
        listed = result["configuration"]["configRuleList"]
        # A one-element list comes back as the element itself, as in AWS's answers.
        rules = listed if isinstance(listed, list) else [listed]
        failing |= {
            (
                result["accountId"],
                result["awsRegion"],
                r["configRuleName"],
                result["configuration"]["targetResourceId"],
            )
            for r in rules
            if r["complianceType"] == "NON_COMPLIANT"
        }
    seeded = simulated_org.seeded
    # Every finding of every region where Config records, and the stale ones where it no longer does.
    assert {(f.account_id, f.region, f.rule_name, f.resource_id) for f in seeded.findings} <= failing
    assert any(isinstance(r["configuration"]["configRuleList"], dict) for r in results)


def test_a_source_that_does_not_record_compliance_items_is_absent_from_the_compliance_query(
    simulated_org: SimulatedOrganization, config: Any, aggregator: SeededAggregator
) -> None:
    account, region = simulated_org.seeded.accounts[2].id, simulated_org.seeded.regions[0]
    aggregator.without_compliance_items(account, region)

    places = {(r["accountId"], r["awsRegion"]) for r in compliance_items(config, aggregator)}
    in_one_region = compliance_items(config, aggregator, f" AND awsRegion = '{region}'")
    assert (account, region) not in places
    assert (account, simulated_org.seeded.regions[1]) in places
    # One region's query: only that region's resources.
    assert in_one_region
    assert {r["awsRegion"] for r in in_one_region} == {region}


def test_the_tags_query_finds_resources_in_every_source_and_other_queries_are_invalid(
    simulated_org: SimulatedOrganization, config: Any, aggregator: SeededAggregator
) -> None:
    seeded = simulated_org.seeded
    tagged = [
        (key, found.tags)
        for key, found in seeded.tags.resources.items()
        if found.record is ResourceRecord.RECORDED and found.tags and key[2] not in GLOBAL_RESOURCE_TYPES
    ]
    (account, region, _resource_type, resource_id), tags = tagged[0]
    (other_account, _, _, other_id), _ = next(t for t in tagged if t[0][0] != account)
    expression = (
        "SELECT resourceId, resourceType, accountId, awsRegion, tags "
        f"WHERE resourceId IN ('{resource_id}', '{other_id}')"
    )

    results = [
        json.loads(line)
        for line in config.select_aggregate_resource_config(
            ConfigurationAggregatorName=aggregator.name, Expression=expression, Limit=100
        )["Results"]
    ]

    mine = [
        r
        for r in results
        if (r["accountId"], r["awsRegion"], r["resourceId"]) == (account, region, resource_id)
    ]
    assert len(mine) == 1
    assert {t["key"]: t["value"] for t in mine[0]["tags"]} == dict(tags)
    assert other_account in {r["accountId"] for r in results}
    with pytest.raises(ClientError) as excinfo:
        config.select_aggregate_resource_config(
            ConfigurationAggregatorName=aggregator.name,
            Expression="SELECT * WHERE resourceType = 'AWS::S3::Bucket'",
        )
    assert error_of(excinfo)[0] == "InvalidExpressionException"
    with pytest.raises(ClientError) as too_many:
        config.select_aggregate_resource_config(
            ConfigurationAggregatorName=aggregator.name, Expression=expression, Limit=101
        )
    assert error_of(too_many)[0] == "InvalidLimitException"
