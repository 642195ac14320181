"""Proofs for `config-report check`: one call of each read the scan makes, to show the roles may.

Each function makes the calls and returns what a person wants to hear; a refusal or a fault is raised
as botocore raised it (`aws.errors.AwsError`), for `check` to describe.
"""

from __future__ import annotations

from typing import Any

from config_report.aws.aggregator import TAGS_QUERY
from config_report.aws.errors import error_code
from config_report.aws.session import Hub, assume_role_session, role_arn
from config_report.aws.tags import resource_queries
from config_report.settings import ScanConfig

# A conformance pack no account has: its NoSuchConformancePackException proves the call is allowed.
_NO_SUCH_PACK = "config-report-check"
_NO_SUCH_RESOURCE = "config-report-check"


def assume_spoke(hub: Hub, scan: ScanConfig, account_id: str) -> Any:
    """A session in `account_id` as its spoke role (one AssumeRole)."""
    return assume_role_session(
        hub.sts,
        role_arn(hub.identity, account_id, scan.spoke_role_name),
        session_name=scan.session_name,
        region=hub.region,
        external_id=scan.external_id,
        fallback_sts=hub.fallback_sts,
    )


def config_reads(spoke: Any, hub: Hub, region: str, *, list_regions: bool) -> int | None:
    """Each Config read of the scan once in `region` (and DescribeRegions when `list_regions`): the
    number of rules on the first page, or None when the region has no recorder."""
    if list_regions:
        spoke.client("ec2", region_name=region, config=hub.config).describe_regions(AllRegions=False)
    config = spoke.client("config", region_name=region, config=hub.config)
    own = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    # Called even where the account has its own recorder: the check proves every read the scan may make.
    listed = config.list_configuration_recorders(MaxResults=1)["ConfigurationRecorderSummaries"]
    if not own and not listed:
        return None
    rules = config.describe_config_rules()["ConfigRules"]
    config.describe_compliance_by_config_rule()
    config.describe_config_rule_evaluation_status(Limit=1)
    if rules:
        config.get_compliance_details_by_config_rule(ConfigRuleName=rules[0]["ConfigRuleName"], Limit=1)
    # The owners' tags and deletions: a resource ID no account has, so the answers are empty but the
    # calls are proven.
    config.select_resource_config(Expression=next(resource_queries([_NO_SUCH_RESOURCE])), Limit=1)
    config.list_discovered_resources(
        resourceType="AWS::S3::Bucket", resourceIds=[_NO_SUCH_RESOURCE], includeDeletedResources=True
    )
    return len(rules)


def conformance_pack_reads(spoke: Any, hub: Hub, region: str) -> bool:
    """The two conformance-pack reads once in `region`: True when the region has packs."""
    config = spoke.client("config", region_name=region, config=hub.config)
    packs = config.describe_conformance_packs(Limit=1)["ConformancePackDetails"]
    try:
        config.describe_conformance_pack_compliance(ConformancePackName=_NO_SUCH_PACK, Limit=1)
    except Exception as exc:
        if error_code(exc) != "NoSuchConformancePackException":
            raise
    return bool(packs)


def aggregator_reads(client: Any, name: str, region: str) -> str:
    """Each read of the aggregator source once (a listing's first item); what a person wants to hear."""
    client.describe_configuration_aggregators(ConfigurationAggregatorNames=[name])
    client.describe_configuration_aggregator_sources_status(ConfigurationAggregatorName=name, Limit=1)
    rules = client.describe_aggregate_compliance_by_config_rules(ConfigurationAggregatorName=name, Limit=1)[
        "AggregateComplianceByConfigRules"
    ]
    # A rule the aggregator lists, or one no account has: both prove the call is allowed.
    first = rules[0] if rules else {"ConfigRuleName": _NO_SUCH_RESOURCE, "AccountId": "000000000000"}
    client.get_aggregate_compliance_details_by_config_rule(
        ConfigurationAggregatorName=name,
        ConfigRuleName=first["ConfigRuleName"],
        AccountId=first["AccountId"],
        AwsRegion=first.get("AwsRegion", region),
        Limit=1,
    )
    query = next(resource_queries([_NO_SUCH_RESOURCE], select=TAGS_QUERY))
    client.select_aggregate_resource_config(ConfigurationAggregatorName=name, Expression=query, Limit=1)
    return f"{'some' if rules else 'no'} rule results on the first page"
