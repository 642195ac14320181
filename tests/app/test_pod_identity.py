"""A run on EKS Pod Identity, end to end: the job's credentials come only from the pod's agent.

`config-report` runs as the CronJob's pod would with a Pod Identity association: no access keys, no
web-identity variables, only what EKS sets (AWS_CONTAINER_CREDENTIALS_FULL_URI, here the simulated
agent on 127.0.0.1, and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, the projected ServiceAccount token).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from config_report.simulated import PodIdentityAgent, SimulatedOrganization
from runner import run_cli, run_process

NAMESPACE = "security-compliance"
SERVICE_ACCOUNT = "report-generator-sa"
# What a pod on Pod Identity does not have: the simulator's keys, IRSA's variables.
NOT_IN_THE_POD = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


def pod(sim: SimulatedOrganization, tmp_path: Path) -> tuple[PodIdentityAgent, dict[str, str], str]:
    """The agent (running, the ServiceAccount associated with the hub role), the pod's variables, and
    the token it mounted."""
    hub = sim.seeded.hub
    agent = PodIdentityAgent(sim, account_id=hub.account_id, region=hub.region).start()
    agent.associate(NAMESPACE, SERVICE_ACCOUNT, hub.role_arn)
    token = agent.token(NAMESPACE, SERVICE_ACCOUNT)
    token_file = tmp_path / "eks-pod-identity-token"
    token_file.write_text(token)
    # No file of the machine's own may stand in for the pod's credentials.
    environment = agent.pod_environment(token_file) | {
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return agent, environment, token


@pytest.fixture
def on_pod_identity(
    simulated_org: SimulatedOrganization, tmp_path: Path
) -> Iterator[tuple[PodIdentityAgent, dict[str, str], str]]:
    """The shared organization with an agent serving the chart's ServiceAccount."""
    agent, environment, token = pod(simulated_org, tmp_path)
    with agent:
        yield agent, environment, token


def test_a_run_with_only_pod_identity_credentials_scans_everything_as_the_hub(
    simulated_org: SimulatedOrganization, on_pod_identity: tuple[PodIdentityAgent, dict[str, str], str]
) -> None:
    agent, environment, token = on_pod_identity
    simulated_org.faults.reset()

    run = run_cli(simulated_org, "run", **dict.fromkeys(NOT_IN_THE_POD), **environment)

    assert run.returncode == 0, run.stderr[-3000:]
    (start,) = [e for e in run.log_events() if e["event"] == "run.start"]
    # The hub's identity, from the container provider, in EKS Auth's session.
    assert start["credentials"] == "container-role"
    role_name = simulated_org.seeded.hub.role_arn.rsplit("/", 1)[1]
    assert f":assumed-role/{role_name}/eks-{agent.cluster_name}-" in start["identity"]
    assert agent.credentials_served >= 1
    # Every account was read as on IRSA: the transitive session tags were allowed by every trust.
    (done,) = [e for e in run.log_events() if e["event"] == "run.done"]
    assert done["accounts"] == len(simulated_org.seeded.accounts)
    assert simulated_org.faults.counts.tag_session_denied == 0
    assert len(run.files) == 3
    # The pod's token and the session the agent handed out appear in nothing the run wrote.
    written = [run.stdout.encode(), run.stderr.encode(), *run.files.values(), *run.markers.values()]
    for secret in (token, *simulated_org.faults.issued_secrets):
        assert not [blob for blob in written if secret.encode() in blob]


def test_check_proves_each_permission_on_pod_identity(
    simulated_org: SimulatedOrganization, on_pod_identity: tuple[PodIdentityAgent, dict[str, str], str]
) -> None:
    agent, environment, _ = on_pod_identity

    done = run_process(simulated_org, "check", **dict.fromkeys(NOT_IN_THE_POD), **environment)

    assert done.returncode == 0, done.stdout + done.stderr
    hub_line = [line for line in done.stdout.splitlines() if "hub identity" in line]
    assert hub_line == [hub_line[0]]
    assert hub_line[0].startswith("PASS")
    assert f"/eks-{agent.cluster_name}-" in hub_line[0]


def test_a_spoke_role_whose_trust_lacks_tag_session_is_a_coverage_gap_naming_it(
    fresh_simulated_org: SimulatedOrganization, tmp_path: Path
) -> None:
    # A spoke role deployed before Pod Identity: its trust allows sts:AssumeRole only.
    sim = fresh_simulated_org
    account = sim.seeded.accounts[2]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": sim.seeded.hub.role_arn}, "Action": "sts:AssumeRole"}
        ],
    }
    sim.client("iam", account_id=account.id).update_assume_role_policy(
        RoleName=sim.seeded.spoke_role_name, PolicyDocument=json.dumps(trust)
    )
    agent, environment, _ = pod(sim, tmp_path)
    with agent:
        run = run_cli(sim, "run", **dict.fromkeys(NOT_IN_THE_POD), **environment)

    assert run.returncode == 3, run.stderr[-3000:]
    coverage = run.sheet("Coverage")
    header = coverage[0]
    rows = [dict(zip(header, row, strict=True)) for row in coverage[1:]]
    denied = [row for row in rows if row["Account ID"] == account.id]
    assert denied
    assert {row["Status"] for row in denied} == {"ACCESS_DENIED"}
    assert all("sts:TagSession" in row["AWS Message"] for row in denied)
    assert {row["Account ID"] for row in rows if row["Status"] == "ACCESS_DENIED"} == {account.id}
