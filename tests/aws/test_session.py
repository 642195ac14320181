"""Sessions and the translation of AWS errors: error classification, role ARNs, refreshing credentials."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.utils import parse_timestamp

from config_report.aws.errors import describe_error, failure_status, is_access_denied
from config_report.aws.session import (
    PROBE_ATTEMPTS,
    Identity,
    ServiceModels,
    assume_role_session,
    assumed_role_credentials,
    caller_identity,
    client_config,
    connect_hub,
    in_partition,
    role_arn,
    utc_timestamp,
)
from config_report.domain.model import CoverageStatus
from config_report.settings import load_settings
from config_report.simulated import SimulatedOrganization
from runner import run_process


def client_error(code: str, message: str, status: int = 400, operation: str = "AssumeRole") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


def test_access_denied_codes_and_a_bare_403_count_as_denied() -> None:
    assert is_access_denied(client_error("AccessDenied", "not authorized", 403))
    assert is_access_denied(client_error("AccessDeniedException", "explicit deny in an SCP"))
    assert is_access_denied(client_error("403", "", 403, "DescribeConfigRules"))


def test_sts_deactivated_in_a_region_is_not_a_denial_though_it_is_a_403() -> None:
    exc = client_error("RegionDisabledException", "STS is not activated in this region for account:1.", 403)
    assert not is_access_denied(exc)
    assert failure_status(exc) is CoverageStatus.ERROR


def test_throttling_and_network_faults_are_not_denials() -> None:
    assert not is_access_denied(client_error("ThrottlingException", "Rate exceeded"))
    assert not is_access_denied(
        EndpointConnectionError(endpoint_url="https://config.eu-west-1.amazonaws.com")
    )


def test_an_error_is_described_on_one_short_line_with_operation_and_code() -> None:
    html = "<html>\n<title>500 Internal Server Error</title>\n" + "x" * 1000
    text = describe_error(client_error("500", html, 500, "DescribeComplianceByConfigRule"))
    assert text.startswith("DescribeComplianceByConfigRule: 500: <html> <title>")
    assert "\n" not in text
    assert len(text) <= 300


def test_spoke_role_arns_use_the_hub_partition() -> None:
    gov = Identity(account="111111111111", arn="arn:aws-us-gov:sts::111111111111:assumed-role/hub/s")
    assert role_arn(gov, "012345678901", "reader") == "arn:aws-us-gov:iam::012345678901:role/reader"


def test_spoke_credentials_refresh_by_assuming_the_role_again(simulated_org: SimulatedOrganization) -> None:
    seeded = simulated_org.seeded
    account = seeded.accounts[0].id
    sts = simulated_org.client("sts")
    hub = caller_identity(sts)
    now = [datetime.now(UTC)]
    session = assume_role_session(
        sts,
        role_arn(hub, account, seeded.spoke_role_name),
        session_name="refresh-test",
        region="eu-west-1",
        clock=lambda: now[0],
    )
    first = session.get_credentials().get_frozen_credentials()
    # Role chaining caps a session at one hour: 59 minutes later botocore is inside its mandatory
    # refresh window, and the next use must come with newly assumed credentials.
    now[0] += timedelta(minutes=59)
    second = session.get_credentials().get_frozen_credentials()
    assert second.access_key != first.access_key
    identity = session.client("sts", endpoint_url=simulated_org.endpoint_url).get_caller_identity()
    assert identity["Account"] == account


@pytest.mark.parametrize(
    "value",
    [
        1764000000,
        1764000000.123456,
        "2026-11-23T10:00:00+01:00",
        "2026-11-23T09:00:00.5Z",
        "Mon, 23 Nov 2026 09:00:00 GMT",
    ],
)
def test_a_timestamp_from_aws_is_the_instant_botocore_reads_held_in_utc(value: str | float) -> None:
    moment = utc_timestamp(value)

    assert moment.tzinfo is UTC
    assert moment == parse_timestamp(value)


def test_regions_of_other_partitions_are_never_scanned() -> None:
    assert in_partition("eu-west-1", "aws")
    assert not in_partition("cn-north-1", "aws")
    assert not in_partition("us-gov-west-1", "aws")
    assert in_partition("us-gov-west-1", "aws-us-gov")
    assert not in_partition("us-east-1", "aws-us-gov")
    assert in_partition("cn-northwest-1", "aws-cn")


def test_an_xml_error_body_on_a_json_api_is_reduced_to_its_message() -> None:
    body = '<?xml version="1.0"?><ErrorResponse><Error><Code>AccessDenied</Code><Message>'
    body += "User is not authorized to perform: config:DescribeConfigRules</Message></Error></ErrorResponse>"
    text = describe_error(client_error("403", body, 403, "DescribeConfigRules"))
    assert text == "DescribeConfigRules: 403: User is not authorized to perform: config:DescribeConfigRules"


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("command", ["run", "check"])
def test_an_unreachable_endpoint_is_reported_as_a_network_error_not_credentials(
    simulated_org: SimulatedOrganization, command: str
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    done = run_process(simulated_org, command, AWS_ENDPOINT_URL=endpoint)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert f"network error while asking STS who the hub is: cannot reach {endpoint}" in output
    for hint in ("egress", "NetworkPolicy", "HTTPS_PROXY", "VPC endpoints"):
        assert hint in output
    assert "credentials" not in output.lower().replace("no usable hub credentials", "!")
    assert "role-arn annotation" not in output


def test_missing_credentials_stay_a_credential_error(simulated_org: SimulatedOrganization) -> None:
    done = run_process(
        simulated_org,
        "run",
        AWS_ACCESS_KEY_ID="",
        AWS_SECRET_ACCESS_KEY="",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        AWS_CONFIG_FILE="/nonexistent",
    )
    assert done.returncode == 1
    (failed,) = [json.loads(line) for line in done.stderr.splitlines() if '"run.failed"' in line]
    assert failed["error"].startswith("no usable hub credentials")
    assert "network error" not in failed["error"]


def test_the_connect_timeout_is_explicit() -> None:
    assert client_config(load_settings({}).client_config()).connect_timeout <= 10


def test_the_first_call_makes_as_many_attempts_on_the_wire_as_documented(
    simulated_org: SimulatedOrganization,
) -> None:
    # STS is down: the first call (who is the hub?) must report it in seconds, after PROBE_ATTEMPTS
    # attempts, not retry for CONFIG_REPORT_MAX_ATTEMPTS.
    simulated_org.faults.reset()
    simulated_org.faults.configure(sts_unavailable=50)
    try:
        done = run_process(simulated_org, "run", CONFIG_REPORT_MAX_ATTEMPTS="12")
        sent = simulated_org.faults.operations.get("sts:GetCallerIdentity", 0)
    finally:
        simulated_org.faults.reset()

    assert done.returncode == 1
    assert "ServiceUnavailable" in done.stderr
    assert sent == PROBE_ATTEMPTS == 2


def test_every_later_call_makes_as_many_attempts_as_configured(simulated_org: SimulatedOrganization) -> None:
    seeded = simulated_org.seeded
    simulated_org.faults.reset()
    settings = load_settings({"max_attempts": 3})
    env = simulated_org.client_env()
    sts = boto3.client(
        "sts",
        endpoint_url=simulated_org.endpoint_url,
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=client_config(settings.client_config()),
    )
    role = role_arn(
        caller_identity(simulated_org.client("sts")), seeded.accounts[0].id, seeded.spoke_role_name
    )
    simulated_org.faults.configure(sts_unavailable=50)
    try:
        with pytest.raises(ClientError, match="ServiceUnavailable"):
            sts.assume_role(RoleArn=role, RoleSessionName="attempts")
        sent = simulated_org.faults.operations.get("sts:AssumeRole", 0)
    finally:
        simulated_org.faults.reset()

    assert sent == 3


def test_an_expired_token_refusal_renews_the_credentials_and_the_call_goes_through(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    sts = simulated_org.client("sts")
    arn = role_arn(caller_identity(sts), seeded.accounts[0].id, seeded.spoke_role_name)
    simulated_org.faults.reset()
    try:
        credentials = assumed_role_credentials(sts, arn, session_name="expiry-test")
        # No botocore retries at all: what retries here is the renewal alone.
        once = Config(retries={"mode": "standard", "total_max_attempts": 1}, proxies={})
        config = (
            ServiceModels()
            .session(credentials)
            .create_client(
                "config", region_name="eu-west-1", endpoint_url=simulated_org.endpoint_url, config=once
            )
        )
        first_key = credentials.get_frozen_credentials().access_key
        simulated_org.faults.configure(expire_credentials_after=1)
        config.describe_config_rules()
        # STS now refuses the key botocore still believes valid for an hour.
        rules = config.describe_config_rules()["ConfigRules"]
        refused = simulated_org.faults.counts.expired_rejected
    finally:
        simulated_org.faults.reset()

    assert rules
    assert refused == 1
    assert credentials.get_frozen_credentials().access_key != first_key


def test_a_role_whose_account_deactivated_sts_in_the_hubs_region_is_assumed_and_renewed_in_us_east_1(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    sts, fallback = (
        simulated_org.client("sts", region="eu-west-1"),
        simulated_org.client("sts", region="us-east-1"),
    )
    arn = role_arn(caller_identity(sts), seeded.accounts[0].id, seeded.spoke_role_name)
    simulated_org.faults.reset()
    simulated_org.faults.configure(sts_disabled_in=[(seeded.accounts[0].id, "eu-west-1")])
    try:
        credentials = assumed_role_credentials(sts, arn, session_name="detour-test", fallback_sts=fallback)
        first_key = credentials.get_frozen_credentials().access_key
        credentials.renew()
        counts = simulated_org.faults.counts
    finally:
        simulated_org.faults.reset()

    assert credentials.sts_detour == (
        "STS is deactivated in eu-west-1 for this account: its role was assumed through STS in us-east-1, "
        "where AWS never deactivates it"
    )
    assert credentials.get_frozen_credentials().access_key != first_key
    # Refused once; the renewal went to us-east-1 directly.
    assert (counts.sts_region_disabled, counts.assume_role_served) == (1, 2)


def test_without_a_region_to_fall_back_on_sts_deactivated_stays_the_error_aws_gave(
    simulated_org: SimulatedOrganization,
) -> None:
    seeded = simulated_org.seeded
    account = seeded.accounts[0].id
    sts = simulated_org.client("sts", region="eu-west-1")
    arn = role_arn(caller_identity(sts), account, seeded.spoke_role_name)
    simulated_org.faults.reset()
    simulated_org.faults.configure(sts_disabled_in=[(account, "eu-west-1")])
    try:
        with pytest.raises(ClientError) as excinfo:
            assumed_role_credentials(sts, arn, session_name="detour-test")
    finally:
        simulated_org.faults.reset()

    assert describe_error(excinfo.value) == (
        f"AssumeRole: RegionDisabledException: STS is not activated in this region for account:{account}. "
        "Your account administrator can activate STS in this region using the IAM Console."
    )


@pytest.mark.parametrize(("region", "fallback"), [("eu-west-1", "us-east-1"), ("us-east-1", None)])
def test_the_hub_falls_back_on_us_east_1_unless_it_is_there_already(
    simulated_org: SimulatedOrganization, monkeypatch: pytest.MonkeyPatch, region: str, fallback: str | None
) -> None:
    for name, value in simulated_org.client_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", region)

    hub = connect_hub(load_settings({}).client_config())

    assert (hub.fallback_sts.meta.region_name if hub.fallback_sts else None) == fallback
