"""The simulator's server: many accounts over HTTP, the environment for a client, state isolation."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest

from config_report.simulated import SimulatedOrganization
from simulated.aws_callers import Caller, scratch_account_id


def test_the_default_credentials_are_the_hub(hub: Caller, simulated_org: SimulatedOrganization) -> None:
    identity = hub.client("sts").get_caller_identity()

    assert identity["Account"] == simulated_org.seeded.hub.account_id == "123456789012"


def test_assumed_role_credentials_act_in_the_roles_account_for_every_service(
    simulated_org: SimulatedOrganization, assume_role: Callable[[str], Caller]
) -> None:
    seeded = simulated_org.seeded
    account = next(a for a in seeded.accounts if a.id.startswith("0"))
    spoke = assume_role(f"arn:aws:iam::{account.id}:role/{seeded.spoke_role_name}")

    identity = spoke.client("sts").get_caller_identity()
    recorders = spoke.client("config").describe_configuration_recorders()["ConfigurationRecorders"]
    regions = spoke.client("ec2").describe_regions()["Regions"]
    organization = spoke.client("organizations", region="us-east-1").describe_organization()["Organization"]
    spoke.client("s3").create_bucket(
        Bucket=f"spoke-scratch-{account.id}", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    buckets = [b["Name"] for b in spoke.client("s3").list_buckets()["Buckets"]]

    assert identity["Account"] == account.id
    assert identity["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/{seeded.spoke_role_name}/tests"
    assert [r["roleARN"].split(":")[4] for r in recorders] == [account.id]
    assert {r["RegionName"] for r in regions} >= set(seeded.regions)
    assert organization["MasterAccountId"] == seeded.management_account_id
    assert f"spoke-scratch-{account.id}" in buckets
    assert seeded.hub.report_bucket not in buckets


def test_the_client_environment_reaches_the_seeded_organization(
    simulated_org: SimulatedOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = simulated_org.client_env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    session = boto3.session.Session()

    organizations = _assume(session, env["CONFIG_REPORT_ORG_ROLE_ARN"]).client("organizations")
    accounts = [a for p in organizations.get_paginator("list_accounts").paginate() for a in p["Accounts"]]
    session.client("s3").put_object(Bucket=env["CONFIG_REPORT_S3_BUCKET"], Key="probe/env.txt", Body=b"ok")

    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["CONFIG_REPORT_REGIONS"] == "eu-west-1,us-east-1,eu-central-1"
    assert session.client("sts").get_caller_identity()["Account"] == "123456789012"
    seeded = simulated_org.seeded
    assert len(accounts) == len(seeded.accounts) + len(seeded.suspended_accounts)


def _assume(session: boto3.session.Session, role_arn: str) -> boto3.session.Session:
    credentials = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="env")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_reset_forgets_everything_that_was_created(fresh_simulated_org: SimulatedOrganization) -> None:
    s3 = fresh_simulated_org.client("s3")
    s3.create_bucket(Bucket="short-lived", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    fresh_simulated_org.reset()

    assert s3.list_buckets()["Buckets"] == []
    with pytest.raises(RuntimeError, match="not been seeded"):
        _ = fresh_simulated_org.seeded


def test_only_one_simulator_runs_per_process(simulated_org: SimulatedOrganization) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        SimulatedOrganization().start()


def test_stopping_frees_the_process_for_another_simulator(fresh_simulated_org: SimulatedOrganization) -> None:
    fresh_simulated_org.stop()
    try:
        with SimulatedOrganization() as other:
            seeded = other.seed(accounts=6, suspended=0)
            identity = other.client("sts").get_caller_identity()
        with pytest.raises(RuntimeError, match="not running"):
            _ = fresh_simulated_org.endpoint_url
    finally:
        fresh_simulated_org.start()

    assert len(seeded.accounts) == 6
    assert identity["Account"] == "123456789012"


def test_a_deleted_access_key_no_longer_acts_in_its_account(
    simulated_org: SimulatedOrganization, hub: Caller
) -> None:
    account_id = scratch_account_id()
    iam = simulated_org.client("iam", account_id=account_id)
    iam.create_user(UserName="short-lived")
    key = iam.create_access_key(UserName="short-lived")["AccessKey"]
    caller = Caller(
        hub.endpoint_url, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    before = [caller.client("sts").get_caller_identity()["Account"] for _ in range(2)]

    iam.delete_access_key(UserName="short-lived", AccessKeyId=key["AccessKeyId"])

    # The simulator remembers which account a key belongs to; a deleted key must not keep it.
    assert before == [account_id, account_id]
    assert caller.client("sts").get_caller_identity()["Account"] == simulated_org.seeded.hub.account_id
