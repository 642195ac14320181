"""Least privilege, proven: the real job under exactly the policies of permissions.py, IAM enforced.

`config-report run` (a subprocess, as the CronJob runs it) scans the simulated organization with
moto's IAM enforcement on, as the hub role's web-identity session, with the Jira ticket ledger in use
and an earlier run's snapshot and history to read.
Each role holds exactly its rendered policy from `permissions.policy_document`:

- with every action, the run succeeds with complete coverage: nothing is missing;
- the same with `CONFIG_REPORT_SOURCE=aggregator`, through the aggregator role, and without any one of
  its reads every place, rule or owner it reads is a gap naming the action;
- without any one action, the run fails or reports the gap: nothing is extra. The two conformance pack
  reads only enrich the Rule catalogue, ListConfigurationRecorders only finds service-linked recorders
  and ListDiscoveredResources only tells deleted resources from unrecorded ones: without any of them,
  the run completes (exit 0) and warns, naming it.

What moto checks, and how the test meets it (moto 5.2.1, `moto/iam/access_control.py`):

- once `/moto-api/reset-auth` sets the no-auth allowance to 0, every request must be signed by a
  known identity and allowed by that identity's policies (inline role policies here);
- it evaluates Config, Organizations and EC2 requests against resource "*", so the statements that
  permissions.py narrows to Config rule or Organizations root/OU ARNs are widened to "*" for the run
  (which actions is what this test proves; `test_terraform.py` and checkov cover the resources);
- it has no condition context for S3 requests (no `s3:prefix`), so it would refuse every listing under a
  statement with a Condition: the condition is dropped for the run (`test_permissions.py` and
  `terraform test` pin it), and the listing the job makes is always under the prefix;
- it does not check cross-account trust policies; in the role's own account it compares the caller's
  session ARN with the trusted principal literally, and its condition context holds only
  sts:ExternalId. So the modules' trust (the hub account's root, narrowed by `aws:PrincipalArn` to the
  hub role: AWS maps a session to its role) cannot be evaluated here: the hub account's own spoke role
  trusts the hub's session ARN instead. `test_terraform.py` and `terraform test` cover the real trust;
- its ec2:DescribeRegions lists the China and GovCloud regions too, where an `aws` partition
  credential is unknown. So the runs name their regions (`CONFIG_REPORT_REGIONS`), and only the run
  that proves ec2:DescribeRegions is needed leaves them to DescribeRegions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from permissions import Role, Scope, Targets, actions, policy_document, statements

from config_report.errors import ExitCode
from config_report.settings import Settings
from config_report.simulated import SeededOrganization, SimulatedOrganization
from config_report.simulated.jira import FakeJira

POLICY_NAME = "config-report"
HUB_SESSION = "report-generator"

# Statements whose narrow resources moto cannot evaluate (it checks these services against "*").
WIDENED_FOR_MOTO = {
    Scope.CONFIG_RULES,
    Scope.CONFIG_AGGREGATORS,
    Scope.CONFORMANCE_PACKS,
    Scope.ORGANIZATION_PARENTS,
    Scope.ORGANIZATION_ACCOUNTS,
}

# Granted actions whose removal the simulation cannot observe, each with the reason.
NOT_OBSERVABLE = {
    "kms:GenerateDataKey": "S3 calls KMS on the caller's behalf; moto models no such call",
    "kms:Decrypt": "S3 calls KMS on the caller's behalf; moto models no such call",
    "sts:TagSession": (
        "needed only when the hub's session carries EKS Pod Identity's transitive tags; moto evaluates "
        "no session tags in identity policies (the simulator checks the spoke and org roles' trust for "
        "it in a Pod Identity run: tests/app/test_pod_identity.py)"
    ),
}

# Spoke reads without which the run still completes, and the warning it logs naming the action: the
# catalogue's conformance packs, and service-linked recorders (their region reads as without Config).
ENRICHMENTS = {
    "config:DescribeConformancePacks": "conformance_packs.unread",
    "config:DescribeConformancePackCompliance": "conformance_packs.unread",
    "config:ListConfigurationRecorders": "config_recorders.unlisted",
    "config:ListDiscoveredResources": "owners.deletions_unchecked",
}

# What the run must do without each observable action.
EXPECTED_WITHOUT = {
    **{
        (Role.SPOKE, name): ExitCode.OK if name in ENRICHMENTS else ExitCode.INCOMPLETE
        for name in actions(Role.SPOKE)
    },
    **{(Role.ORG, name): ExitCode.FAILED for name in actions(Role.ORG)},
    # The aggregator source: without any one read, every place (or every rule or owner it reads) is a gap.
    **{(Role.AGGREGATOR, name): ExitCode.INCOMPLETE for name in actions(Role.AGGREGATOR)},
    (Role.HUB, "sts:AssumeRole"): ExitCode.FAILED,
    (Role.HUB, "s3:PutObject"): ExitCode.FAILED,
    (Role.HUB, "s3:GetObject"): ExitCode.JIRA_FAILED,
    (Role.HUB, "s3:ListBucket"): ExitCode.JIRA_FAILED,
}


@dataclass(frozen=True)
class RunResult:
    """One finished `config-report` command: its exit code, output and JSON log events."""

    returncode: int
    stdout: str
    stderr: str

    def events(self, name: str) -> list[dict[str, Any]]:
        """The log events called `name`."""
        found = []
        for line in self.stderr.splitlines():
            if line.startswith("{"):
                event = json.loads(line)
                if event.get("event") == name:
                    found.append(event)
        return found


@dataclass(frozen=True)
class EnforcedOrganization:
    """The simulated organization with IAM enforced, the roles' policies under the test's control."""

    sim: SimulatedOrganization
    jira: FakeJira
    hub_env: dict[str, str]
    workdir: Path

    @property
    def seeded(self) -> SeededOrganization:
        """What the seeder built."""
        return self.sim.seeded

    def role_accounts(self, role: Role) -> dict[str, str]:
        """Account ID → role name, for every copy of `role` in the organization."""
        seeded = self.seeded
        if role is Role.SPOKE:
            return {a.id: seeded.spoke_role_name for a in seeded.accounts}
        if role is Role.ORG:
            return {seeded.management_account_id: _name(seeded.org_role_arn)}
        if role is Role.AGGREGATOR:
            return {self.sim.aggregator.account_id: _name(self.sim.aggregator.role_arn)}
        return {seeded.hub.account_id: _name(seeded.hub.role_arn)}

    def targets(self, role: Role) -> Targets:
        """What the rendered policy of `role` names: as the hub module would render it."""
        if role is not Role.HUB:
            return Targets()
        seeded = self.seeded
        return Targets(
            scanner_role_arns=(
                f"arn:aws:iam::*:role/{seeded.spoke_role_name}",
                seeded.org_role_arn,
                self.sim.aggregator.role_arn,
            ),
            report_bucket=seeded.hub.report_bucket,
            report_prefix=Settings.model_fields["s3_prefix"].default,
        )

    def grant(self, role: Role, *, without: str | None = None) -> None:
        """Give every copy of `role` exactly its policy (minus `without`); IAM is not enforced meanwhile."""
        document = policy_document(role, self.targets(role), without=without)
        widened = {s.sid for s in statements(role) if s.scope in WIDENED_FOR_MOTO}
        for statement in document["Statement"]:
            if statement["Sid"] in widened:
                statement["Resource"] = ["*"]
            statement.pop("Condition", None)  # moto evaluates no S3 condition keys (module docstring)
        with self.enforcement_suspended():
            for account_id, role_name in self.role_accounts(role).items():
                self.sim.client("iam", account_id=account_id).put_role_policy(
                    RoleName=role_name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(document)
                )

    def grant_all(self) -> None:
        """Every role gets its full policy."""
        for role in Role:
            self.grant(role)

    def enforce(self, on: bool) -> None:
        """Switch moto's IAM enforcement on (every request checked) or off."""
        allowance = b"0" if on else b"inf"
        httpx.post(
            f"{self.sim.endpoint_url}/moto-api/reset-auth", content=allowance, timeout=30
        ).raise_for_status()

    @contextmanager
    def enforcement_suspended(self) -> Iterator[None]:
        """A block in which the test's own admin calls are not checked."""
        self.enforce(False)
        try:
            yield
        finally:
            self.enforce(True)

    def run(
        self, command: str = "run", *, regions_from_ec2: bool = False, source: str = "spokes"
    ) -> RunResult:
        """`config-report run` (or `check`) as the CronJob runs it, with the hub's credentials and Jira.

        `regions_from_ec2` leaves the regions to ec2:DescribeRegions (see the module docstring); `source`
        is where compliance is read (`aggregator`: through the aggregator role).
        """
        token_file = self.workdir / "jira-token"
        token_file.write_text(self.jira.token)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_REPORT_"))}
        env |= self.sim.client_env() | self.hub_env
        if regions_from_ec2:
            env.pop("CONFIG_REPORT_REGIONS")
        env |= {
            "CONFIG_REPORT_SOURCE": source,
            "CONFIG_REPORT_LOG_FORMAT": "json",
            "CONFIG_REPORT_JIRA_URL": self.jira.url,
            "CONFIG_REPORT_JIRA_PROJECT": "SEC",
            "CONFIG_REPORT_JIRA_EMAIL": self.jira.email,
            "CONFIG_REPORT_JIRA_API_TOKEN_FILE": str(token_file),
        }
        done = subprocess.run(
            [sys.executable, "-m", "config_report", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return RunResult(done.returncode, done.stdout, done.stderr)


def _name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[1]


def _hub_session(sim: SimulatedOrganization) -> dict[str, str]:
    """The hub role's web-identity session, as IRSA gives it to the pod (fetched before enforcement:
    the call is unsigned, and moto can only check signed requests)."""
    seeded = sim.seeded
    answer = sim.client("sts").assume_role_with_web_identity(
        RoleArn=seeded.hub.role_arn, RoleSessionName=HUB_SESSION, WebIdentityToken="projected-sa-token"
    )
    credentials = answer["Credentials"]
    # moto compares principals literally in the caller's own account (see the module docstring).
    session_arn = answer["AssumedRoleUser"]["Arn"]
    sim.client("iam", account_id=seeded.hub.account_id).update_assume_role_policy(
        RoleName=seeded.spoke_role_name,
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": [seeded.hub.role_arn, session_arn]},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


@pytest.fixture(scope="module")
def enforced(
    simulated_org: SimulatedOrganization, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EnforcedOrganization]:
    """A small organization with every role holding its full policy and IAM enforced."""
    simulated_org.reset()
    simulated_org.seed(accounts=6, suspended=0, regions=("eu-west-1", "us-east-1"))
    org: EnforcedOrganization | None = None
    try:
        with FakeJira("cloud").running() as jira:
            org = EnforcedOrganization(
                simulated_org, jira, _hub_session(simulated_org), tmp_path_factory.mktemp("least-privilege")
            )
            org.grant_all()
            org.enforce(True)
            yield org
    finally:
        if org is not None:
            org.enforce(False)
        simulated_org.reset()
        simulated_org.seed()


@pytest.fixture
def full_policies(enforced: EnforcedOrganization) -> Iterator[EnforcedOrganization]:
    """The enforced organization, every role's full policy restored after the test."""
    yield enforced
    enforced.grant_all()


def test_the_run_succeeds_with_complete_coverage_under_exactly_the_declared_policies(
    full_policies: EnforcedOrganization,
) -> None:
    result = full_policies.run()

    assert result.returncode == ExitCode.OK, result.stderr[-3000:]
    (done,) = result.events("run.done")
    assert done["coverage_gaps"] == 0
    assert done["accounts"] == len(full_policies.seeded.accounts)
    assert len(done["files"]) == 3
    (start,) = result.events("run.start")
    assert start["identity"].endswith(
        f"assumed-role/{_name(full_policies.seeded.hub.role_arn)}/{HUB_SESSION}"
    )
    assert result.events("jira.done")


@pytest.mark.parametrize(
    ("role", "action"),
    [pytest.param(role, action, id=f"{role.value}-{action}") for role, action in EXPECTED_WITHOUT],
)
def test_without_any_one_action_the_run_fails_or_reports_the_gap(
    full_policies: EnforcedOrganization, role: Role, action: str
) -> None:
    full_policies.grant(role, without=action)

    result = full_policies.run(regions_from_ec2=action == "ec2:DescribeRegions", source=_source(role))

    assert result.returncode == EXPECTED_WITHOUT[role, action], result.stderr[-3000:]
    if action in ENRICHMENTS:
        (warning,) = result.events(ENRICHMENTS[action])
        assert warning["action"] == action, warning
        (done,) = result.events("run.done")
        assert done["coverage_gaps"] == 0
    elif role is Role.AGGREGATOR:
        # The aggregator's denial is named in every gap it makes: a place, a rule, or its owners.
        reasons = [reason for e in result.events("account.done") for reason in e["gaps"]]
        assert reasons, result.stderr[-3000:]
        operation = action.split(":")[1]
        assert all(reason.startswith("ACCESS_DENIED: ") and operation in reason for reason in reasons), (
            reasons
        )
    elif role is Role.SPOKE:
        # Config and EC2 denials (moto's Config answers a bare 403) are reported as ACCESS_DENIED gaps:
        # of a region, or (GetComplianceDetailsByConfigRule) of each non-compliant rule alone.
        # Each account's log line maps every reason for a gap to its regions, once per unread rule.
        reasons = [
            (reason, regions) for e in result.events("account.done") for reason, regions in e["gaps"].items()
        ]
        assert reasons, result.stderr[-3000:]
        operation = action.split(":")[1]
        assert all(reason.startswith(f"ACCESS_DENIED: {operation}: ") for reason, _ in reasons), reasons
        (done,) = result.events("run.done")
        assert done["coverage_gaps"] + done["rules_unread"] == sum(len(regions) for _, regions in reasons)


def test_the_aggregator_source_succeeds_with_complete_coverage_under_exactly_the_declared_policies(
    full_policies: EnforcedOrganization,
) -> None:
    result = full_policies.run(source="aggregator")

    assert result.returncode == ExitCode.OK, result.stderr[-3000:]
    (done,) = result.events("run.done")
    assert (done["coverage_gaps"], done["rules_unread"]) == (0, 0)
    assert done["accounts"] == len(full_policies.seeded.accounts)


def _source(role: Role) -> str:
    """Where the run reads compliance to prove `role`'s actions: the aggregator role's only there."""
    return "aggregator" if role is Role.AGGREGATOR else "spokes"


def test_a_run_reads_the_previous_snapshot_and_the_history_under_exactly_the_declared_policies(
    full_policies: EnforcedOrganization,
) -> None:
    full_policies.run()  # so that there is a previous run, whichever test ran first

    result = full_policies.run()

    assert result.returncode == ExitCode.OK, result.stderr[-3000:]
    assert result.events("baseline.found"), result.stderr[-3000:]
    assert not result.events("baseline.none")
    assert not result.events("history.rebuilt")
    assert not result.events("history.started")
    assert result.events("history.saved")


def test_the_preflight_check_passes_under_exactly_the_declared_policies(
    full_policies: EnforcedOrganization,
) -> None:
    result = full_policies.run("check")

    assert result.returncode == ExitCode.OK, result.stdout + result.stderr[-3000:]
    assert "FAIL" not in result.stdout


@pytest.mark.parametrize(
    ("role", "action"),
    [pytest.param(role, action, id=f"{role.value}-{action}") for role, action in EXPECTED_WITHOUT],
)
def test_without_any_one_action_the_preflight_check_fails_and_names_it(
    full_policies: EnforcedOrganization, role: Role, action: str
) -> None:
    full_policies.grant(role, without=action)

    result = full_policies.run(
        "check", regions_from_ec2=action == "ec2:DescribeRegions", source=_source(role)
    )

    assert result.returncode != ExitCode.OK, result.stdout
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failed, result.stdout
    assert any(action.split(":")[1] in line for line in failed), result.stdout


def test_every_granted_action_is_proven_needed_or_documented_as_beyond_the_simulation() -> None:
    granted = {(role, name) for role in Role for name in actions(role)}
    proven = set(EXPECTED_WITHOUT)
    assert proven <= granted
    assert {name for _, name in granted - proven} == set(NOT_OBSERVABLE)
