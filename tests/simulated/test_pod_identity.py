"""The simulated EKS Pod Identity agent answers as the real agent does, and session tags are enforced.

The reference: the EKS User Guide (Pod Identity, its session tags), the agent's own source
(aws/eks-pod-identity-agent: its validation, its errors, its JSON answer), and botocore's container
credential provider, which is what the job runs (AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.credentials import ContainerProvider
from botocore.exceptions import ClientError

from config_report.simulated import PodIdentityAgent, SimulatedOrganization

NAMESPACE = "security-compliance"
SERVICE_ACCOUNT = "report-generator-sa"


def running_agent(sim: SimulatedOrganization) -> PodIdentityAgent:
    """An agent of one cluster in the hub account, the chart's ServiceAccount associated with the hub role."""
    hub = sim.seeded.hub
    agent = PodIdentityAgent(sim, account_id=hub.account_id, region=hub.region).start()
    agent.associate(NAMESPACE, SERVICE_ACCOUNT, hub.role_arn)
    return agent


@pytest.fixture
def agent(simulated_org: SimulatedOrganization) -> Iterator[PodIdentityAgent]:
    """The agent on the shared organization (for tests that change nothing in AWS)."""
    with running_agent(simulated_org) as running:
        yield running


@pytest.fixture
def fresh_agent(fresh_simulated_org: SimulatedOrganization) -> Iterator[PodIdentityAgent]:
    """The agent on an organization of the test's own (for tests that change roles' trust)."""
    with running_agent(fresh_simulated_org) as running:
        yield running


def sdk_credentials(agent: PodIdentityAgent, tmp_path: Path, token: str) -> Any:
    """What botocore's container provider loads in a pod whose token file holds `token`."""
    token_file = tmp_path / "eks-pod-identity-token"
    token_file.write_text(token)
    credentials = ContainerProvider(environ=agent.pod_environment(token_file)).load()
    assert credentials is not None
    return credentials


def client_with(sim: SimulatedOrganization, service: str, credentials: Any) -> Any:
    """A boto3 client on the simulator signed with these (frozen) credentials."""
    frozen = credentials.get_frozen_credentials()
    return boto3.session.Session().client(
        service,
        region_name=sim.seeded.hub.region,
        endpoint_url=sim.endpoint_url,
        aws_access_key_id=frozen.access_key,
        aws_secret_access_key=frozen.secret_key,
        aws_session_token=frozen.token,
        config=Config(proxies={}),
    )


def ask(
    agent: PodIdentityAgent, *, token: str | None, host: str | None = None, path: str = ""
) -> httpx.Response:
    """One GET to the agent, as the SDK sends it (the token as the Authorization header)."""
    headers = {} if token is None else {"Authorization": token}
    if host is not None:
        headers["Host"] = host
    url = agent.url if not path else agent.url.rsplit("/v1/", 1)[0] + path
    return httpx.get(url, headers=headers, timeout=30, trust_env=False)


def test_the_sdks_container_provider_gets_the_associated_roles_session_from_the_agent(
    simulated_org: SimulatedOrganization, agent: PodIdentityAgent, tmp_path: Path
) -> None:
    credentials = sdk_credentials(agent, tmp_path, agent.token(NAMESPACE, SERVICE_ACCOUNT))

    assert credentials.method == "container-role"
    identity = client_with(simulated_org, "sts", credentials).get_caller_identity()
    role_name = simulated_org.seeded.hub.role_arn.rsplit("/", 1)[1]
    # EKS Auth's session name: eks-<cluster>-<pod>-<random UUID>, cut to 64 characters.
    prefix = f"arn:aws:sts::{simulated_org.seeded.hub.account_id}:assumed-role/{role_name}/eks-"
    assert identity["Arn"].startswith(prefix + f"{agent.cluster_name}-config-report-")
    assert len(identity["Arn"].rsplit("/", 1)[1]) == 64
    assert agent.credentials_served == 1
    # The SDK refreshes ahead of the Expiration the agent states.
    assert credentials._expiry_time > datetime.now(UTC) + timedelta(minutes=15)


def test_the_agents_answer_has_the_fields_and_format_the_sdks_read(agent: PodIdentityAgent) -> None:
    answer = ask(agent, token=agent.token(NAMESPACE, SERVICE_ACCOUNT))

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"AccessKeyId", "SecretAccessKey", "Token", "AccountId", "Expiration"}
    assert body["AccountId"] == "123456789012"
    assert datetime.fromisoformat(body["Expiration"]) > datetime.now(UTC)
    assert body["Expiration"].endswith("Z")


REFUSALS = {  # what the pod sends: (status, what the agent's plain-text answer says)
    "no token": (400, "Service account token cannot be empty"),
    "not a JWT": (400, "Service account token cannot be parsed"),
    "an expired token": (400, "Service account token failed basic claim validations"),
    "a token of another cluster": (400, "(InvalidTokenException): "),
    "a token for another audience": (400, "(InvalidTokenException): "),
    "a ServiceAccount without association": (404, "(ResourceNotFoundException): "),
    "another address than the agent's": (403, "Access Denied. Called agent through invalid address"),
    "another path": (404, "404 page not found"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_the_agent_refuses_as_the_real_one_does(
    simulated_org: SimulatedOrganization, agent: PodIdentityAgent, case: str
) -> None:
    hub = simulated_org.seeded.hub
    good = agent.token(NAMESPACE, SERVICE_ACCOUNT)
    with PodIdentityAgent(simulated_org, account_id=hub.account_id, region=hub.region) as other:
        foreign = other.token(NAMESPACE, SERVICE_ACCOUNT)
    answer = {
        "no token": lambda: ask(agent, token=None),
        "not a JWT": lambda: ask(agent, token="not-a-jwt"),
        "an expired token": lambda: ask(
            agent, token=agent.token(NAMESPACE, SERVICE_ACCOUNT, lifetime=timedelta(seconds=-1))
        ),
        "a token of another cluster": lambda: ask(agent, token=foreign),
        "a token for another audience": lambda: ask(
            agent, token=agent.token(NAMESPACE, SERVICE_ACCOUNT, audience="sts.amazonaws.com")
        ),
        "a ServiceAccount without association": lambda: ask(agent, token=agent.token(NAMESPACE, "default")),
        "another address than the agent's": lambda: ask(agent, token=good, host="localhost"),
        "another path": lambda: ask(agent, token=good, path="/v2/credentials"),
    }[case]()
    status, says = REFUSALS[case]
    assert answer.status_code == status, answer.text
    assert says in answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    assert agent.credentials_served == 0


def test_the_agent_listens_on_loopback_only(agent: PodIdentityAgent) -> None:
    # botocore takes a plain-HTTP FULL_URI only from loopback or the agent's own link-local addresses.
    assert agent.url.startswith("http://127.0.0.1:")
    assert agent.url.endswith("/v1/credentials")


def without_tag_session(sim: SimulatedOrganization, role_arn: str) -> None:
    """Trust the hub role to assume `role_arn`, without sts:TagSession (as before Pod Identity)."""
    account_id, role_name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[1]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": sim.seeded.hub.role_arn}, "Action": "sts:AssumeRole"}
        ],
    }
    sim.client("iam", account_id=account_id).update_assume_role_policy(
        RoleName=role_name, PolicyDocument=json.dumps(trust)
    )


def test_pod_identity_session_tags_are_transitive_so_each_role_assumed_must_allow_tag_session(
    fresh_simulated_org: SimulatedOrganization, fresh_agent: PodIdentityAgent, tmp_path: Path
) -> None:
    sim, agent = fresh_simulated_org, fresh_agent
    seeded = sim.seeded
    sts = client_with(sim, "sts", sdk_credentials(agent, tmp_path, agent.token(NAMESPACE, SERVICE_ACCOUNT)))
    # The seeded roles trust sts:TagSession, as the Terraform modules write them: the chain works.
    org = sts.assume_role(RoleArn=seeded.org_role_arn, RoleSessionName="config-report")
    assert org["AssumedRoleUser"]["Arn"].endswith("/config-report")

    without_tag_session(sim, seeded.org_role_arn)
    with pytest.raises(ClientError) as refused:
        sts.assume_role(RoleArn=seeded.org_role_arn, RoleSessionName="config-report")
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert error["Message"].endswith(
        f"is not authorized to perform: sts:TagSession on resource: {seeded.org_role_arn}"
    )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert sim.faults.counts.tag_session_denied == 1
    # Keys that carry no session tags (IRSA, access keys) need no sts:TagSession.
    plain = sim.client("sts").assume_role(RoleArn=seeded.org_role_arn, RoleSessionName="config-report")
    assert plain["AssumedRoleUser"]["Arn"].endswith("/config-report")


def test_transitive_tags_go_on_along_the_chain_but_tags_passed_alone_do_not(
    fresh_simulated_org: SimulatedOrganization, fresh_agent: PodIdentityAgent, tmp_path: Path
) -> None:
    sim, agent = fresh_simulated_org, fresh_agent
    seeded = sim.seeded
    spoke = f"arn:aws:iam::{seeded.accounts[1].id}:role/{seeded.spoke_role_name}"
    without_tag_session(sim, seeded.org_role_arn)
    hub = client_with(sim, "sts", sdk_credentials(agent, tmp_path, agent.token(NAMESPACE, SERVICE_ACCOUNT)))
    # Hub (tagged by EKS) -> spoke (trusts sts:TagSession) -> org role (does not): the tags came along.
    second = hub.assume_role(RoleArn=spoke, RoleSessionName="config-report")["Credentials"]
    chained = boto3.session.Session().client(
        "sts",
        region_name=seeded.hub.region,
        endpoint_url=sim.endpoint_url,
        aws_access_key_id=second["AccessKeyId"],
        aws_secret_access_key=second["SecretAccessKey"],
        aws_session_token=second["SessionToken"],
        config=Config(proxies={}),
    )
    with pytest.raises(ClientError, match="sts:TagSession"):
        chained.assume_role(RoleArn=seeded.org_role_arn, RoleSessionName="config-report")
    # Tags passed without TransitiveTagKeys stay on their own session.
    own = sim.client("sts").assume_role(
        RoleArn=spoke, RoleSessionName="config-report", Tags=[{"Key": "team", "Value": "security"}]
    )["Credentials"]
    untagged = boto3.session.Session().client(
        "sts",
        region_name=seeded.hub.region,
        endpoint_url=sim.endpoint_url,
        aws_access_key_id=own["AccessKeyId"],
        aws_secret_access_key=own["SecretAccessKey"],
        aws_session_token=own["SessionToken"],
        config=Config(proxies={}),
    )
    assert untagged.assume_role(RoleArn=seeded.org_role_arn, RoleSessionName="config-report")
