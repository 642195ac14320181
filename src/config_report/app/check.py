"""`config-report check`: the preflight a team runs right after deploying.

Each check proves one permission the job needs, in the order the job needs them, and says what to
fix when it fails. The spoke role is proven in every account in scope (one AssumeRole each, as many at
once as CONFIG_REPORT_CONCURRENCY), unless a sample is asked for, and then the output says so.
Nothing here produces a report; the only write is the same small marker under `PREFIX/preflight/`
that `run` writes before scanning (so no delete permission is needed).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config_report import jira
from config_report.app.run import Hub, account_filter, account_owners, connect_hub, organizations_client
from config_report.aws.organization import list_active_accounts
from config_report.aws.packs import UNREAD_FIX
from config_report.aws.session import (
    NETWORK_HINT,
    assume_role_session,
    describe_error,
    hub_region,
    is_network_error,
    role_arn,
)
from config_report.aws.tags import resource_queries
from config_report.errors import ConfigReportError, JiraError, NetworkError, PublishError
from config_report.settings import Settings
from config_report.store.bucket import new_run_id, preflight_key, write_preflight_marker


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


def summary(results: list[CheckResult], *, sampled: bool) -> str:
    """The last line: how many checks passed, and that spoke roles were only sampled when they were."""
    failed = sum(1 for r in results if not r.ok)
    text = f"{len(results) - failed} of {len(results)} checks passed"
    if failed:
        text += f"; {failed} failed: the job would not run cleanly"
    if sampled:
        text += " (spoke roles sampled, not proven in every account)"
    return text


@dataclass(frozen=True, slots=True)
class SpokeOutcome:
    """One account's AssumeRole: the session, or the error."""

    account_id: str
    session: Any = None
    error: BaseException | None = None


def run_checks(settings: Settings, *, sample: int | None = None) -> Iterator[CheckResult]:
    """Prove each permission in turn; checks that depend on a failed one are not attempted.

    `sample`: prove the spoke role in only the first `sample` accounts in scope (the output says so).
    """
    yield CheckResult("settings", True, f"valid; spoke role {settings.spoke_role_name}")
    try:
        hub = connect_hub(settings)
    except NetworkError as exc:
        yield CheckResult("hub identity", False, str(exc), "fix the network path to AWS (see above)")
        return
    except ConfigReportError as exc:
        yield CheckResult(
            "hub identity", False, str(exc), "give the pod its IRSA role (or set AWS credentials)"
        )
        return
    yield CheckResult("hub identity", True, hub.identity.arn)
    accounts = yield from _check_organization(hub, settings)
    usable = yield from _check_spokes(hub, settings, accounts, sample=sample)
    if usable is not None:
        yield _check_config_reads(usable, hub, settings)
        yield _check_conformance_packs(usable, hub, settings)
    run_id = new_run_id(datetime.now(UTC))
    write = _check_s3_write(hub, settings, run_id)
    yield write
    if write.ok:
        yield _check_s3_read(hub, settings, preflight_key(settings.s3_prefix, run_id))
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
        # One account's tags prove the owner lookup is allowed; the run reads every account's.
        account_owners(client, accounts[:1], settings.owner_tag_keys)
    except ConfigReportError as exc:
        yield CheckResult(
            name, False, str(exc), "deploy the org-list role and set CONFIG_REPORT_ORG_ROLE_ARN"
        )
        return list(settings.accounts)
    yield CheckResult(name, True, f"{len(accounts)} active accounts in scope")
    return [a.id for a in accounts]


def _check_spokes(
    hub: Hub, settings: Settings, accounts: list[str], *, sample: int | None
) -> Generator[CheckResult, None, Any]:
    # Yields one FAIL line per account whose role cannot be assumed, then one line for all of them;
    # returns a usable spoke session (for the Config reads check), or None.
    if not accounts:
        yield CheckResult(
            "spoke roles",
            False,
            "no account to try",
            "check the account and OU filters (CONFIG_REPORT_ACCOUNTS, _OUS)",
        )
        return None
    chosen = accounts[:sample] if sample else accounts
    workers = max(1, min(settings.concurrency, len(chosen)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check-spoke") as pool:
        outcomes = list(pool.map(lambda account: _assume_spoke(hub, settings, account), chosen))
    failed = [o for o in outcomes if o.error is not None]
    for outcome in failed:
        fix = (
            NETWORK_HINT
            if is_network_error(outcome.error or Exception())
            else f"deploy the spoke-read-role in {outcome.account_id} trusting {hub.identity.arn}"
            " (and the same CONFIG_REPORT_EXTERNAL_ID on both sides)"
        )
        yield CheckResult(
            f"spoke role {outcome.account_id}", False, describe_error(outcome.error or Exception()), fix
        )
    scope = (
        f"a sample of the first {len(chosen)} of {len(accounts)} accounts in scope (--sample {sample}); "
        "run without --sample to prove every account"
        if len(chosen) < len(accounts)
        else f"every one of the {len(accounts)} accounts in scope"
    )
    if failed:
        yield CheckResult(
            "spoke roles", False, f"{len(failed)} of {len(chosen)} could not be assumed; tried {scope}"
        )
    else:
        yield CheckResult("spoke roles", True, f"assumed {settings.spoke_role_name} in {scope}")
    return next((o.session for o in outcomes if o.session is not None), None)


def _assume_spoke(hub: Hub, settings: Settings, account_id: str) -> SpokeOutcome:
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
        return SpokeOutcome(account_id, error=exc)
    return SpokeOutcome(account_id, session=session)


def _check_region(settings: Settings) -> str:
    return settings.regions[0] if settings.regions else hub_region()


def _check_config_reads(session: Any, hub: Hub, settings: Settings) -> CheckResult:
    region = _check_region(settings)
    name = f"config reads in {region}"
    try:
        if not settings.regions:
            session.client("ec2", region_name=region, config=hub.config).describe_regions(AllRegions=False)
        config = session.client("config", region_name=region, config=hub.config)
        if not config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]:
            return CheckResult(name, True, "allowed; no recorder here (would be CONFIG_NOT_ENABLED)")
        rules = config.describe_config_rules()["ConfigRules"]
        config.describe_compliance_by_config_rule()
        config.describe_config_rule_evaluation_status(Limit=1)
        if rules:
            config.get_compliance_details_by_config_rule(ConfigRuleName=rules[0]["ConfigRuleName"], Limit=1)
        # The owners' tags: a resource ID no account has, so the answer is empty but the call is proven.
        config.select_resource_config(Expression=next(resource_queries(["config-report-check"])), Limit=1)
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(
            name, False, describe_error(exc), "attach the spoke-read-role policy from deploy/terraform"
        )
    return CheckResult(name, True, f"allowed; {len(rules)} rules on the first page")


def _check_conformance_packs(session: Any, hub: Hub, settings: Settings) -> CheckResult:
    """The Rule catalogue's conformance packs can be read (without them the run still reports)."""
    region = _check_region(settings)
    name = f"conformance packs in {region}"
    config = session.client("config", region_name=region, config=hub.config)
    try:
        packs = config.describe_conformance_packs(Limit=1)["ConformancePackDetails"]
        try:
            # A pack no account has: NoSuchConformancePackException proves the call is allowed.
            config.describe_conformance_pack_compliance(ConformancePackName=_NO_SUCH_PACK, Limit=1)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchConformancePackException":
                raise
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(name, False, describe_error(exc), UNREAD_FIX)
    return CheckResult(name, True, f"allowed; {'some' if packs else 'no'} conformance packs here")


_NO_SUCH_PACK = "config-report-check"


def _check_s3_write(hub: Hub, settings: Settings, run_id: str) -> CheckResult:
    if not settings.s3_bucket:
        return CheckResult("s3 write", False, "CONFIG_REPORT_S3_BUCKET is not set", "set the report bucket")
    try:
        key = write_preflight_marker(
            hub.session.client("s3", config=hub.config),
            settings.s3_bucket,
            settings.s3_prefix,
            run_id=run_id,
            caller=hub.identity.arn,
            kms_key_id=settings.s3_kms_key_id,
        )
    except PublishError as exc:
        return CheckResult("s3 write", False, exc.reason, exc.fix)
    return CheckResult("s3 write", True, f"wrote s3://{settings.s3_bucket}/{key}")


def _check_s3_read(hub: Hub, settings: Settings, key: str) -> CheckResult:
    """Earlier reports can be found and read back (each run compares itself with the previous one):
    lists under the prefix down to the marker just written, then reads the marker."""
    bucket, prefix = settings.s3_bucket, settings.s3_prefix
    s3 = hub.session.client("s3", config=hub.config)
    fix = (
        f"grant the hub role s3:ListBucket on {bucket} with the condition s3:prefix like {prefix}*, "
        "s3:GetObject on the prefix (and kms:Decrypt on the key)"
    )
    action = "s3:ListBucket"
    try:
        s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
        action = "s3:GetObject"
        s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        return CheckResult("s3 read", False, f"{action} under {prefix}: {describe_error(exc)}", fix)
    return CheckResult("s3 read", True, f"listed s3://{bucket}/{prefix} and read {key} back")


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
