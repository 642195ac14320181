"""Configuration recorders on the simulator, over HTTP with boto3, as the API reference describes them:
the status call without arguments knows only the customer-managed recorder, ListConfigurationRecorders
lists the service-linked ones too, and a failing recorder says so.

Each test sets up recorders in an account of its own; the last ones read the seeded organization.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from config_report.simulated import SimulatedOrganization, _moto
from config_report.simulated.recorders import Recorder, recorder_arn
from config_report.simulated.seed import RECORDER_ERROR_CODE, SECURITY_HUB
from simulated.aws_callers import add_customer_recorder, error_of

REGION = "eu-west-1"
WHEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECURITY_HUB_RECORDER = "AWSConfigurationRecorderForSecurityHubCSPM"


def add_security_hub_recorder(account_id: str) -> str:
    arn = recorder_arn(account_id, REGION, SECURITY_HUB_RECORDER)
    recorder = Recorder(SECURITY_HUB_RECORDER, arn, recording=True, service_principal=SECURITY_HUB)
    _moto.service_linked_recorders(account_id, REGION).put(recorder)
    return arn


def test_the_status_call_without_arguments_does_not_return_a_service_linked_recorder(
    config: Any, account_id: str
) -> None:
    add_security_hub_recorder(account_id)

    assert config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"] == []


def test_listing_returns_the_service_linked_recorder_and_its_status_is_read_by_arn(
    config: Any, account_id: str
) -> None:
    arn = add_security_hub_recorder(account_id)

    (summary,) = config.list_configuration_recorders()["ConfigurationRecorderSummaries"]
    (status,) = config.describe_configuration_recorder_status(Arn=summary["arn"])[
        "ConfigurationRecordersStatus"
    ]
    (by_principal,) = config.describe_configuration_recorder_status(ServicePrincipal=SECURITY_HUB)[
        "ConfigurationRecordersStatus"
    ]

    assert summary == {
        "arn": arn,
        "name": SECURITY_HUB_RECORDER,
        "recordingScope": "INTERNAL",
        "servicePrincipal": SECURITY_HUB,
    }
    assert status["recording"] is True
    assert status["lastStatus"] == "Success"
    assert status["servicePrincipal"] == SECURITY_HUB
    assert by_principal == status


def test_the_customer_managed_recorder_is_listed_in_the_paid_scope_and_filters_select_by_scope(
    config: Any, account_id: str
) -> None:
    add_customer_recorder(config, account_id)
    add_security_hub_recorder(account_id)

    every = config.list_configuration_recorders()["ConfigurationRecorderSummaries"]
    internal = config.list_configuration_recorders(
        Filters=[{"filterName": "recordingScope", "filterValue": ["INTERNAL"]}]
    )["ConfigurationRecorderSummaries"]
    (own,) = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]

    assert [(s["name"], s["recordingScope"]) for s in every] == [
        ("default", "PAID"),
        (SECURITY_HUB_RECORDER, "INTERNAL"),
    ]
    assert "servicePrincipal" not in every[0]
    assert [s["name"] for s in internal] == [SECURITY_HUB_RECORDER]
    assert own["name"] == "default"
    assert own["recording"] is True
    assert own["arn"] == every[0]["arn"]


def test_listing_pages_by_max_results(config: Any, account_id: str) -> None:
    add_customer_recorder(config, account_id)
    add_security_hub_recorder(account_id)

    first = config.list_configuration_recorders(MaxResults=1)
    second = config.list_configuration_recorders(MaxResults=1, NextToken=first["NextToken"])
    pages = config.get_paginator("list_configuration_recorders").paginate(PaginationConfig={"PageSize": 1})

    assert len(first["ConfigurationRecorderSummaries"]) == 1
    assert "NextToken" not in second
    assert [s["name"] for page in pages for s in page["ConfigurationRecorderSummaries"]] == [
        "default",
        SECURITY_HUB_RECORDER,
    ]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        pytest.param(
            {"MaxResults": 21},
            "1 validation error detected: Value '21' at 'maxResults' failed to satisfy constraint: "
            "Member must have value less than or equal to 20",
            id="max-results-above-20",
        ),
        pytest.param(
            {"Filters": [{"filterName": "recordingScope", "filterValue": ["EVERYTHING"]}]},
            "1 validation error detected: Value 'EVERYTHING' at 'filters.1.member.filterValue' failed to "
            "satisfy constraint: Member must satisfy enum value set: [INTERNAL, PAID]",
            id="unknown-scope",
        ),
    ],
)
def test_listing_refuses_what_the_api_reference_forbids(
    config: Any, arguments: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        config.list_configuration_recorders(**arguments)

    assert error_of(excinfo) == ("ValidationException", expected, 400)


def test_the_status_call_names_one_recorder_only(config: Any, account_id: str) -> None:
    add_customer_recorder(config, account_id)

    with pytest.raises(ClientError) as two_names:
        config.describe_configuration_recorder_status(ConfigurationRecorderNames=["default", "other"])
    with pytest.raises(ClientError) as name_and_principal:
        config.describe_configuration_recorder_status(
            ConfigurationRecorderNames=["default"], ServicePrincipal=SECURITY_HUB
        )

    assert error_of(two_names)[0] == error_of(name_and_principal)[0] == "ValidationException"


def test_a_recorder_that_does_not_exist_is_no_such_configuration_recorder(
    config: Any, account_id: str
) -> None:
    with pytest.raises(ClientError) as by_name:
        config.describe_configuration_recorder_status(ConfigurationRecorderNames=["default"])
    with pytest.raises(ClientError) as by_principal:
        config.describe_configuration_recorder_status(ServicePrincipal=SECURITY_HUB)

    assert error_of(by_name) == (
        "NoSuchConfigurationRecorderException",
        "Cannot find configuration recorder with the specified name 'default'.",
        400,
    )
    assert error_of(by_principal)[0] == "NoSuchConfigurationRecorderException"


def test_a_failing_recorder_still_records_and_reports_its_last_error(config: Any, account_id: str) -> None:
    add_customer_recorder(config, account_id)
    _moto.fail_recorder(
        account_id, REGION, error_code="AccessDeniedException", error_message="denied", at=WHEN
    )

    (status,) = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]

    assert status["recording"] is True
    assert status["lastStatus"] == "Failure"
    assert (status["lastErrorCode"], status["lastErrorMessage"]) == ("AccessDeniedException", "denied")
    assert status["lastStatusChangeTime"] == WHEN


def test_the_seeded_organization_has_a_failing_recorder_and_a_region_only_security_hub_records(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    ((failing_account, failing_region),) = seeded.recorders_failing
    ((linked_account, linked_region),) = seeded.service_linked_only
    failing = simulated_org.client("config", region=failing_region, account_id=failing_account)
    linked = simulated_org.client("config", region=linked_region, account_id=linked_account)

    (status,) = failing.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    (summary,) = linked.list_configuration_recorders()["ConfigurationRecorderSummaries"]
    rules = linked.describe_config_rules()["ConfigRules"]

    assert (status["recording"], status["lastStatus"], status["lastErrorCode"]) == (
        True,
        "Failure",
        RECORDER_ERROR_CODE,
    )
    assert failing_account == seeded.management_account_id
    assert seeded.account(linked_account).name == "acme-payments-staging"
    assert linked.describe_configuration_recorder_status()["ConfigurationRecordersStatus"] == []
    assert summary["servicePrincipal"] == SECURITY_HUB
    assert rules
    assert all(rule["ConfigRuleName"].startswith("securityhub-") for rule in rules)
