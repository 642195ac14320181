"""The fault layer: throttling that botocore's retries absorb, denied roles and regions, added latency."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from config_report.simulated import FaultLayer, FaultPlan, SeededOrganization, SimulatedOrganization
from simulated.aws_callers import NO_RETRIES, Caller

RETRIES = Config(retries={"mode": "standard", "max_attempts": 12})


@pytest.fixture
def seeded(simulated_org: SimulatedOrganization) -> SeededOrganization:
    return simulated_org.seeded


@pytest.fixture
def spoke(seeded: SeededOrganization, assume_role: Callable[[str], Caller]) -> Caller:
    """The spoke read role of the account with the most Config rules."""
    account = seeded.account_named("acme-payments-prod")
    return assume_role(f"arn:aws:iam::{account.id}:role/{seeded.spoke_role_name}")


def throttled_pattern(faults: FaultLayer, spoke: Caller, calls: int) -> list[bool]:
    """Which of `calls` Config calls, made one by one without retries, were throttled."""
    config = spoke.client("config", config=NO_RETRIES)
    pattern = []
    for _ in range(calls):
        before = faults.counts.throttled
        with contextlib.suppress(ClientError):
            config.describe_configuration_recorders()
        pattern.append(faults.counts.throttled > before)
    return pattern


def test_throttled_config_calls_are_absorbed_by_botocore_retries(faults: FaultLayer, spoke: Caller) -> None:
    faults.configure(config_throttle_rate=0.3, seed=1)
    config = spoke.client("config", config=RETRIES)

    retries = 0
    for _ in range(3):
        for page in config.get_paginator("describe_config_rules").paginate():
            retries += page["ResponseMetadata"]["RetryAttempts"]
    rules = [r for p in config.get_paginator("describe_config_rules").paginate() for r in p["ConfigRules"]]

    assert len(rules) > 25
    assert faults.counts.throttled > 0
    assert retries > 0


def test_a_throttled_call_is_configs_throttling_exception_with_http_400(
    faults: FaultLayer, spoke: Caller
) -> None:
    faults.configure(config_throttle_rate=1.0)

    with pytest.raises(ClientError) as excinfo:
        spoke.client("config", config=NO_RETRIES).describe_config_rules()

    assert excinfo.value.response["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert faults.counts.throttled == 1


def test_throttling_only_touches_config(faults: FaultLayer, spoke: Caller) -> None:
    faults.configure(config_throttle_rate=1.0)

    identity = spoke.client("sts", config=NO_RETRIES).get_caller_identity()
    regions = spoke.client("ec2", config=NO_RETRIES).describe_regions()["Regions"]

    assert identity["Arn"].endswith("/system-config-report-generator-read-role/tests")
    assert regions
    assert faults.counts.throttled == 0


def test_the_same_seed_throttles_the_same_calls(faults: FaultLayer, spoke: Caller) -> None:
    faults.configure(config_throttle_rate=0.5, seed=5)
    first = throttled_pattern(faults, spoke, 24)
    faults.configure(seed=5)
    second = throttled_pattern(faults, spoke, 24)

    assert first == second
    assert any(first)
    assert not all(first)


def test_assume_role_into_a_denied_account_is_sts_access_denied(
    faults: FaultLayer, seeded: SeededOrganization, hub: Caller
) -> None:
    denied, allowed = seeded.accounts[3].id, seeded.accounts[2].id
    faults.configure(deny_assume_role_into=[denied])
    sts = hub.client("sts", config=NO_RETRIES)
    role = f"arn:aws:iam::{denied}:role/{seeded.spoke_role_name}"

    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role, RoleSessionName="tests")
    sts.assume_role(RoleArn=f"arn:aws:iam::{allowed}:role/{seeded.spoke_role_name}", RoleSessionName="tests")

    error = excinfo.value.response["Error"]
    assert (error["Code"], error["Type"]) == ("AccessDenied", "Sender")
    assert error["Message"].endswith(f"is not authorized to perform: sts:AssumeRole on resource: {role}")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert faults.counts.assume_role_denied == 1


def test_config_can_be_denied_in_one_account_and_region(
    faults: FaultLayer, spoke: Caller, seeded: SeededOrganization
) -> None:
    account = seeded.account_named("acme-payments-prod")
    faults.configure(deny_config_in=[(account.id, "us-east-1")])

    with pytest.raises(ClientError) as excinfo:
        spoke.client("config", region="us-east-1", config=NO_RETRIES).describe_config_rules()
    allowed = spoke.client("config", region="eu-west-1", config=NO_RETRIES).describe_config_rules()

    assert excinfo.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "config:DescribeConfigRules" in excinfo.value.response["Error"]["Message"]
    assert allowed["ConfigRules"]
    assert faults.counts.config_denied == 1


def test_latency_is_added_to_every_request(faults: FaultLayer, hub: Caller) -> None:
    sts = hub.client("sts")
    sts.get_caller_identity()
    faults.configure(latency=0.3)

    started = time.monotonic()
    sts.get_caller_identity()

    assert time.monotonic() - started >= 0.3


def test_requests_are_counted(faults: FaultLayer, hub: Caller) -> None:
    hub.client("sts").get_caller_identity()
    hub.client("config").describe_configuration_recorders()

    assert (faults.counts.requests, faults.counts.config_requests) == (2, 1)


@pytest.mark.parametrize(("latency", "rate"), [(0.0, 1.5), (0.0, -0.1), (-1.0, 0.0)])
def test_impossible_fault_plans_are_refused(latency: float, rate: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        FaultPlan(latency=latency, config_throttle_rate=rate)
