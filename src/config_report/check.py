"""`config-report check`: the preflight a team runs right after deploying.

Each check proves one permission the job needs, in the order the job needs them, and says what to
fix when it fails. Nothing here produces a report; the only write is a small marker under the prefix
(so no delete permission is needed).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config_report import jira
from config_report.aws import assume_role_session, describe_error, hub_region, role_arn
from config_report.errors import ConfigReportError, JiraError
from config_report.organization import list_active_accounts
from config_report.pipeline import Hub, account_filter, connect_hub, organizations_client
from config_report.publish import encryption, new_run_id
from config_report.settings import Settings

# Without an explicit account list, this many discovered accounts prove the spoke role.
SPOKE_SAMPLE = 3


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of the preflight: what was proven, or what failed and how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The line printed for this check."""
        text = f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail}"
        return f"{text}\n      fix: {self.fix}" if self.fix and not self.ok else text


def run_checks(settings: Settings) -> Iterator[CheckResult]:
    """Prove each permission in turn; checks that depend on a failed one are not attempted."""
    yield CheckResult("settings", True, f"valid; spoke role {settings.spoke_role_name}")
    try:
        hub = connect_hub(settings)
    except ConfigReportError as exc:
        yield CheckResult(
            "hub identity", False, str(exc), "give the pod its IRSA role (or set AWS credentials)"
        )
        return
    yield CheckResult("hub identity", True, hub.identity.arn)
    accounts = yield from _check_organization(hub, settings)
    sessions = [r for r in (_check_spoke(hub, settings, a) for a in accounts) if r is not None]
    for result, _ in sessions:
        yield result
    usable = next((s for r, s in sessions if r.ok and s is not None), None)
    if usable is not None:
        yield _check_config_reads(usable, hub, settings)
    yield _check_s3_write(hub, settings)
    if settings.jira_enabled:
        yield _check_jira(settings)


def _check_organization(hub: Hub, settings: Settings) -> Generator[CheckResult, None, list[str]]:
    # A generator that yields its result lines and returns the account IDs to try spoke roles on.
    name = "organization listing"
    try:
        client = organizations_client(hub, settings)
        if settings.org_role_arn:
            yield CheckResult("org role", True, f"assumed {settings.org_role_arn}")
        accounts = list_active_accounts(client, account_filter(settings))
    except ConfigReportError as exc:
        yield CheckResult(
            name, False, str(exc), "deploy the org-list role and set CONFIG_REPORT_ORG_ROLE_ARN"
        )
        return list(settings.accounts)
    yield CheckResult(name, True, f"{len(accounts)} active accounts in scope")
    return list(settings.accounts) or [a.id for a in accounts[:SPOKE_SAMPLE]]


def _check_spoke(hub: Hub, settings: Settings, account_id: str) -> tuple[CheckResult, Any] | None:
    arn = role_arn(hub.identity, account_id, settings.spoke_role_name)
    try:
        session = assume_role_session(
            hub.sts,
            arn,
            session_name=settings.session_name,
            region=hub_region(),
            external_id=settings.spoke_external_id(),
        )
    except (ClientError, BotoCoreError) as exc:
        fix = (
            f"deploy the spoke-read-role in {account_id} trusting {hub.identity.arn}"
            " (and the same CONFIG_REPORT_EXTERNAL_ID on both sides)"
        )
        return CheckResult(f"spoke role {account_id}", False, describe_error(exc), fix), None
    return CheckResult(f"spoke role {account_id}", True, f"assumed {arn}"), session


def _check_config_reads(session: Any, hub: Hub, settings: Settings) -> CheckResult:
    region = settings.regions[0] if settings.regions else hub_region()
    name = f"config reads in {region}"
    try:
        if not settings.regions:
            session.client("ec2", region_name=region, config=hub.config).describe_regions(AllRegions=False)
        config = session.client("config", region_name=region, config=hub.config)
        if not config.describe_configuration_recorders()["ConfigurationRecorders"]:
            return CheckResult(name, True, "allowed; no recorder here (would be CONFIG_NOT_ENABLED)")
        rules = config.describe_config_rules()["ConfigRules"]
        config.describe_compliance_by_config_rule()
        if rules:
            config.get_compliance_details_by_config_rule(ConfigRuleName=rules[0]["ConfigRuleName"], Limit=1)
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(
            name, False, describe_error(exc), "attach the spoke-read-role policy from deploy/terraform"
        )
    return CheckResult(name, True, f"allowed; {len(rules)} rules on the first page")


def _check_s3_write(hub: Hub, settings: Settings) -> CheckResult:
    if not settings.s3_bucket:
        return CheckResult("s3 write", False, "CONFIG_REPORT_S3_BUCKET is not set", "set the report bucket")
    key = f"{settings.s3_prefix}preflight/{new_run_id(datetime.now(UTC))}.txt"
    try:
        hub.session.client("s3", config=hub.config).put_object(
            Bucket=settings.s3_bucket,
            Key=key,
            Body=f"config-report preflight by {hub.identity.arn}\n".encode(),
            IfNoneMatch="*",
            **encryption(settings.s3_kms_key_id),
        )
    except (ClientError, BotoCoreError) as exc:
        fix = "grant the hub role s3:PutObject on the prefix (and kms:GenerateDataKey on the key)"
        return CheckResult("s3 write", False, describe_error(exc), fix)
    return CheckResult("s3 write", True, f"wrote s3://{settings.s3_bucket}/{key}")


def _check_jira(settings: Settings) -> CheckResult:
    # A search in the project proves the URL, the flavor, the credentials and the project in one call.
    try:
        with jira.connect(settings) as client:
            client.search(f'project = "{settings.jira_project}"', limit=1)
            flavor = client.flavor.value
    except JiraError as exc:
        fix = "check CONFIG_REPORT_JIRA_URL, _JIRA_EMAIL (Cloud) and the token's access to the project"
        return CheckResult("jira", False, str(exc), fix)
    return CheckResult(
        "jira", True, f"{flavor} at {settings.jira_url}: can search project {settings.jira_project}"
    )
