"""The fault layer: throttling that botocore's retries absorb, denied roles and regions, added latency."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, PaginationError, ReadTimeoutError

from config_report.simulated import FaultLayer, FaultPlan, SeededOrganization, SimulatedOrganization
from config_report.simulated.faults import RuleFault
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


# --- faults a weekly run meets: each answers as AWS does -------------------------------------------


def test_a_5xx_burst_alternates_internal_failure_and_service_unavailable(
    faults: FaultLayer, spoke: Caller
) -> None:
    faults.configure(unavailable=2)
    config = spoke.client("config", config=NO_RETRIES)
    errors = []
    for _ in range(2):
        with pytest.raises(ClientError) as excinfo:
            config.describe_config_rules()
        errors.append(excinfo.value.response)

    config.describe_config_rules()  # the burst is over

    assert [(e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]) for e in errors] == [
        ("InternalFailure", 500),
        ("ServiceUnavailable", 503),
    ]
    assert faults.counts.unavailable == 2


def test_a_5xx_burst_is_absorbed_by_botocore_retries(faults: FaultLayer, spoke: Caller) -> None:
    faults.configure(unavailable=3)
    answer = spoke.client("config", config=RETRIES).describe_config_rules()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 3


def test_a_reset_connection_gets_no_response_at_all(faults: FaultLayer, spoke: Caller) -> None:
    faults.configure(connection_resets=1)

    with pytest.raises(ConnectionClosedError):
        spoke.client("config", config=NO_RETRIES).describe_config_rules()

    assert faults.counts.connection_resets == 1


def test_a_stalled_answer_outlasts_a_short_read_timeout(faults: FaultLayer, spoke: Caller) -> None:
    faults.configure(stalls=1, stall_seconds=3.0)
    impatient = Config(read_timeout=0.5, retries={"mode": "standard", "total_max_attempts": 1})

    with pytest.raises(ReadTimeoutError):
        spoke.client("config", config=impatient).describe_config_rules()

    assert faults.counts.stalls == 1


def test_one_region_can_be_slow(faults: FaultLayer, spoke: Caller) -> None:
    faults.configure(slow_region="us-east-1", slow_region_latency=0.3)
    started = time.monotonic()
    spoke.client("config", region="us-east-1").describe_configuration_recorders()
    # A lower bound only: a loaded machine makes the call slower, never faster.
    assert time.monotonic() - started >= 0.3
    spoke.client("config", region="eu-west-1").describe_configuration_recorders()
    assert faults.counts.slowed == 1


def test_assume_role_storms_are_throttled_with_sts_throttling(
    faults: FaultLayer, seeded: SeededOrganization, hub: Caller
) -> None:
    faults.configure(sts_throttle_rate=1.0)
    role = f"arn:aws:iam::{seeded.accounts[2].id}:role/{seeded.spoke_role_name}"

    with pytest.raises(ClientError) as excinfo:
        hub.client("sts", config=NO_RETRIES).assume_role(RoleArn=role, RoleSessionName="tests")

    error = excinfo.value.response["Error"]
    assert (error["Code"], error["Message"], error["Type"]) == ("Throttling", "Rate exceeded", "Sender")
    assert faults.counts.sts_throttled == 1


def test_an_sts_outage_answers_service_unavailable_as_sts_does(faults: FaultLayer, hub: Caller) -> None:
    faults.configure(sts_unavailable=1)

    with pytest.raises(ClientError) as excinfo:
        hub.client("sts", config=NO_RETRIES).get_caller_identity()
    answered = hub.client("sts", config=NO_RETRIES).get_caller_identity()

    error = excinfo.value.response["Error"]
    assert (error["Code"], error["Type"]) == ("ServiceUnavailable", "Receiver")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert answered["Account"]
    assert faults.counts.sts_unavailable == 1


def test_sts_deactivated_in_a_region_refuses_that_accounts_roles_there_as_sts_does(
    faults: FaultLayer, seeded: SeededOrganization, hub: Caller
) -> None:
    disabled, other = seeded.accounts[3].id, seeded.accounts[2].id
    faults.configure(sts_disabled_in=[(disabled, "eu-west-1")])
    role = f"arn:aws:iam::{disabled}:role/{seeded.spoke_role_name}"

    with pytest.raises(ClientError) as excinfo:
        hub.client("sts", region="eu-west-1", config=NO_RETRIES).assume_role(
            RoleArn=role, RoleSessionName="tests"
        )
    # us-east-1 (where the global endpoint is served) still issues them; other accounts are untouched.
    elsewhere = hub.client("sts", region="us-east-1", config=NO_RETRIES).assume_role(
        RoleArn=role, RoleSessionName="tests"
    )
    hub.client("sts", region="eu-west-1", config=NO_RETRIES).assume_role(
        RoleArn=f"arn:aws:iam::{other}:role/{seeded.spoke_role_name}", RoleSessionName="tests"
    )

    assert excinfo.value.response["Error"] == {
        "Type": "Sender",
        "Code": "RegionDisabledException",
        "Message": f"STS is not activated in this region for account:{disabled}. Your account administrator "
        "can activate STS in this region using the IAM Console.",
    }
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert elsewhere["AssumedRoleUser"]["Arn"].split(":")[4] == disabled
    assert faults.counts.sts_region_disabled == 1


def test_sts_cannot_be_deactivated_in_us_east_1() -> None:
    with pytest.raises(ValueError, match="AWS never deactivates STS there"):
        FaultPlan(sts_disabled_in=frozenset({("111111111111", "us-east-1")}))


def test_short_lived_credentials_say_so_and_are_refused_once_expired(
    faults: FaultLayer, seeded: SeededOrganization, hub: Caller, simulated_org: SimulatedOrganization
) -> None:
    role = f"arn:aws:iam::{seeded.accounts[2].id}:role/{seeded.spoke_role_name}"
    faults.configure(credential_lifetime=120)
    lasting = hub.client("sts").assume_role(RoleArn=role, RoleSessionName="tests")["Credentials"]
    faults.configure(credential_lifetime=1e-6)  # expired by the time it is used
    expired = hub.client("sts").assume_role(RoleArn=role, RoleSessionName="tests")["Credentials"]

    def caller(credentials: dict[str, Any]) -> Caller:
        return Caller(
            simulated_org.endpoint_url,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    lifetime = lasting["Expiration"] - datetime.now(UTC)
    caller(lasting).client("config", config=NO_RETRIES).describe_config_rules()
    refused = {}
    for service, call in (("config", "describe_config_rules"), ("sts", "get_caller_identity")):
        with pytest.raises(ClientError) as excinfo:
            getattr(caller(expired).client(service, config=NO_RETRIES), call)()
        refused[service] = excinfo.value.response["Error"]["Code"]

    assert timedelta(0) < lifetime <= timedelta(seconds=120)
    assert refused == {"config": "ExpiredTokenException", "sts": "ExpiredToken"}
    assert faults.counts.expired_rejected == 2


def test_credentials_in_use_can_be_cut_short_mid_run(faults: FaultLayer, spoke: Caller) -> None:
    config = spoke.client("config", config=NO_RETRIES)
    faults.configure(expire_credentials_after=2)
    config.describe_config_rules()
    config.describe_config_rules()  # the second: from the next one on, issued keys are expired

    with pytest.raises(ClientError) as excinfo:
        config.describe_config_rules()

    assert excinfo.value.response["Error"]["Code"] == "ExpiredTokenException"


def test_an_endless_paginator_repeats_the_same_next_token(
    faults: FaultLayer, spoke: Caller, seeded: SeededOrganization
) -> None:
    account = seeded.account_named("acme-payments-prod")
    faults.configure(endless_pages_in=[(account.id, "eu-west-1")])
    config = spoke.client("config", config=NO_RETRIES)

    first = config.describe_config_rules()
    second = config.describe_config_rules(NextToken=first["NextToken"])
    with pytest.raises(PaginationError, match="same next token"):
        list(config.get_paginator("describe_config_rules").paginate())
    elsewhere = spoke.client("config", region="us-east-1").get_paginator("describe_config_rules")

    assert first["NextToken"] == second["NextToken"]
    assert first["ConfigRules"] == second["ConfigRules"]
    assert list(elsewhere.paginate())[-1].get("NextToken") is None


def test_organizations_is_throttled_mid_listing(
    faults: FaultLayer, hub: Caller, seeded: SeededOrganization
) -> None:
    faults.configure(organizations_throttle_after=1, organizations_throttles=1)
    organizations = hub.client("organizations", config=NO_RETRIES)
    # The hub is not the management account: act as the org role does, through the seeded role.
    organizations.meta.events.register("before-sign", _as_account(seeded.management_account_id))
    organizations.list_roots()

    with pytest.raises(ClientError) as excinfo:
        organizations.list_roots()
    organizations.list_roots()

    assert excinfo.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert faults.counts.organizations_throttled == 1


@pytest.mark.parametrize(
    ("refusal", "code", "status", "says"),
    [
        ("NoSuchBucket", "NoSuchBucket", 404, "The specified bucket does not exist"),
        ("AccessDenied", "AccessDenied", 403, "s3:PutObject"),
        ("KMSAccessDenied", "AccessDenied", 403, "kms:GenerateDataKey"),
        ("ServiceUnavailable", "ServiceUnavailable", 503, "unable to handle request"),
    ],
)
def test_s3_refuses_uploads_as_s3_does(
    faults: FaultLayer,
    hub: Caller,
    seeded: SeededOrganization,
    refusal: str,
    code: str,
    status: int,
    says: str,
) -> None:
    faults.configure(s3_put_refusals=1, s3_put_refusal=refusal)
    s3 = hub.client("s3", config=NO_RETRIES)
    bucket = seeded.hub.report_bucket

    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key=f"tests/refused-{refusal}", Body=b"x")
    s3.put_object(Bucket=bucket, Key=f"tests/accepted-{refusal}", Body=b"x")

    assert excinfo.value.response["Error"]["Code"] == code
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert says in excinfo.value.response["Error"]["Message"]


def test_unknown_faults_are_refused(faults: FaultLayer) -> None:
    with pytest.raises(TypeError, match="no_such_fault"):
        faults.configure(no_such_fault=1)


def _as_account(account_id: str) -> Callable[..., None]:
    def act_as(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account_id

    return act_as


def test_a_region_not_enabled_rejects_the_token_and_an_scp_denied_region_says_so(
    fresh_simulated_org: SimulatedOrganization, assume_role: Callable[[str], Caller]
) -> None:
    fresh_simulated_org.reset()
    seeded = fresh_simulated_org.seed(
        accounts=6, suspended=0, regions=("eu-west-1", "us-east-1", "eu-south-2")
    )
    ((account_id, opt_in), *_) = sorted(seeded.regions_not_enabled)
    ((sandbox, denied), *_) = sorted(seeded.regions_denied_by_scp - seeded.regions_not_enabled)
    errors = {}
    for account, region in ((account_id, opt_in), (sandbox, denied)):
        spoke = assume_role(f"arn:aws:iam::{account}:role/{seeded.spoke_role_name}")
        with pytest.raises(ClientError) as excinfo:
            spoke.client("config", region=region, config=NO_RETRIES).describe_configuration_recorder_status()
        errors[region] = excinfo.value.response["Error"]
    home = assume_role(f"arn:aws:iam::{sandbox}:role/{seeded.spoke_role_name}").client("config")

    assert opt_in == "eu-south-2"
    assert errors[opt_in] == {
        "Code": "UnrecognizedClientException",
        "Message": "The security token included in the request is invalid.",
    }
    assert errors[denied]["Code"] == "AccessDeniedException"
    assert errors[denied]["Message"].endswith(
        "config:DescribeConfigurationRecorderStatus with an explicit deny in a service control policy"
    )
    assert home.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (RuleFault.DENIED, "AccessDeniedException"),
        (RuleFault.THROTTLED, "ThrottlingException"),
        (RuleFault.DELETED, "NoSuchConfigRuleException"),
    ],
)
def test_reading_one_rule_can_fail_while_the_others_are_read(
    faults: FaultLayer, spoke: Caller, seeded: SeededOrganization, fault: RuleFault, code: str
) -> None:
    config = spoke.client("config", config=NO_RETRIES)
    faults.configure(rule_faults=[("s3-*", fault)])

    with pytest.raises(ClientError) as excinfo:
        config.get_compliance_details_by_config_rule(ConfigRuleName="s3-bucket-public-read-prohibited")
    other = config.get_compliance_details_by_config_rule(ConfigRuleName="restricted-ssh")

    assert excinfo.value.response["Error"]["Code"] == code
    assert "EvaluationResults" in other
    assert faults.counts.rule_faults == 1
