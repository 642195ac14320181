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

from config_report import jira
from config_report.app.context import report_bucket
from config_report.app.sources import aggregator_plan
from config_report.aws import probe
from config_report.aws.aggregator import AggregatorPlan, aggregator_client
from config_report.aws.errors import NETWORK_HINT, AwsError, describe_error, error_code, is_network_error
from config_report.aws.organization import list_active_accounts, organizations_client
from config_report.aws.packs import UNREAD_FIX
from config_report.aws.session import Hub, connect_hub
from config_report.aws.tags import read_account_owners
from config_report.domain.scope import account_filter
from config_report.errors import ConfigReportError, JiraError, NetworkError, PublishError
from config_report.settings import SOURCE_AGGREGATOR, JiraConfig, ScanConfig, Settings
from config_report.store.bucket import ReportBucket, UnreadableObject
from config_report.store.publish import Publisher, new_run_id


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
    # Reads the ExternalId file too: an unreadable one is a settings error (exit 2), before any AWS call.
    scan = settings.scan_config()
    reader = (
        f"aggregator {settings.aggregator_name}"
        if settings.source == SOURCE_AGGREGATOR
        else f"spoke role {settings.spoke_role_name}"
    )
    yield CheckResult("settings", True, f"valid; {reader}")
    try:
        hub = connect_hub(settings.client_config())
    except NetworkError as exc:
        yield CheckResult("hub identity", False, str(exc), "fix the network path to AWS (see above)")
        return
    except ConfigReportError as exc:
        yield CheckResult(
            "hub identity", False, str(exc), "give the pod its IRSA role (or set AWS credentials)"
        )
        return
    yield CheckResult("hub identity", True, hub.identity.arn)
    accounts = yield from _check_organization(hub, scan)
    if settings.source == SOURCE_AGGREGATOR:
        # No spoke role is needed: the aggregator's role reads every account.
        yield from _check_aggregator(aggregator_plan(hub, scan, settings.aggregator_config()))
    else:
        yield from _check_spoke_reads(hub, scan, accounts, sample=sample)
    bucket = report_bucket(settings, hub)
    run_id = new_run_id(datetime.now(UTC))
    write = _check_s3_write(bucket, hub, run_id)
    yield write
    if write.ok:
        yield _check_s3_read(bucket, bucket.preflight_key(run_id))
    jira_config = settings.jira_config()
    if jira_config is not None:
        yield _check_jira(jira_config)


def _check_spoke_reads(
    hub: Hub, scan: ScanConfig, accounts: list[str], *, sample: int | None
) -> Iterator[CheckResult]:
    usable = yield from _check_spokes(hub, scan, accounts, sample=sample)
    if usable is not None:
        region = scan.regions[0] if scan.regions else hub.region
        yield _check_config_reads(usable, hub, region, list_regions=not scan.regions)
        yield _check_conformance_packs(usable, hub, region)


def _check_aggregator(plan: AggregatorPlan) -> Iterator[CheckResult]:
    """The aggregator's role, then each read of the aggregator source once."""
    name = f"aggregator {plan.aggregator.name} in {plan.region}"
    try:
        client = aggregator_client(plan)
    except ConfigReportError as exc:
        yield CheckResult(
            "aggregator role",
            False,
            str(exc),
            "deploy deploy/terraform's aggregator-read-role trusting the hub",
        )
        return
    if plan.aggregator.role_arn:
        yield CheckResult("aggregator role", True, f"assumed {plan.aggregator.role_arn}")
    try:
        detail = probe.aggregator_reads(client, plan.aggregator.name, plan.region)
    except AwsError as exc:
        fix = (
            "check CONFIG_REPORT_AGGREGATOR_NAME and CONFIG_REPORT_AGGREGATOR_REGION"
            if error_code(exc) == "NoSuchConfigurationAggregatorException"
            else "attach the aggregator-read-role policy from deploy/terraform"
        )
        yield CheckResult(name, False, describe_error(exc), fix)
        return
    yield CheckResult(name, True, f"every read allowed; {detail}")


def _check_organization(hub: Hub, scan: ScanConfig) -> Generator[CheckResult, None, list[str]]:
    # A generator that yields its result lines and returns the account IDs to try spoke roles on.
    name = "organization listing"
    try:
        client = organizations_client(hub, scan)
        if scan.org_role_arn:
            yield CheckResult("org role", True, f"assumed {scan.org_role_arn}")
        accounts = list_active_accounts(client, account_filter(scan))
        # One account's tags prove the owner lookup is allowed; the run reads every account's.
        read_account_owners(client, accounts[:1], scan.owner_tag_keys)
    except ConfigReportError as exc:
        yield CheckResult(
            name, False, str(exc), "deploy the org-list role and set CONFIG_REPORT_ORG_ROLE_ARN"
        )
        return sorted(scan.accounts)
    yield CheckResult(name, True, f"{len(accounts)} active accounts in scope")
    return [a.id for a in accounts]


def _check_spokes(
    hub: Hub, scan: ScanConfig, accounts: list[str], *, sample: int | None
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
    workers = max(1, min(scan.concurrency, len(chosen)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check-spoke") as pool:
        outcomes = list(pool.map(lambda account: _assume_spoke(hub, scan, account), chosen))
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
        yield CheckResult("spoke roles", True, f"assumed {scan.spoke_role_name} in {scope}")
    return next((o.session for o in outcomes if o.session is not None), None)


def _assume_spoke(hub: Hub, scan: ScanConfig, account_id: str) -> SpokeOutcome:
    try:
        return SpokeOutcome(account_id, session=probe.assume_spoke(hub, scan, account_id))
    except AwsError as exc:
        return SpokeOutcome(account_id, error=exc)


def _check_config_reads(spoke: Any, hub: Hub, region: str, *, list_regions: bool) -> CheckResult:
    name = f"config reads in {region}"
    try:
        rules = probe.config_reads(spoke, hub, region, list_regions=list_regions)
    except AwsError as exc:
        return CheckResult(
            name, False, describe_error(exc), "attach the spoke-read-role policy from deploy/terraform"
        )
    if rules is None:
        return CheckResult(name, True, "allowed; no recorder here (would be CONFIG_NOT_ENABLED)")
    return CheckResult(name, True, f"allowed; {rules} rules on the first page")


def _check_conformance_packs(spoke: Any, hub: Hub, region: str) -> CheckResult:
    """The Rule catalogue's conformance packs can be read (without them the run still reports)."""
    name = f"conformance packs in {region}"
    try:
        packs = probe.conformance_pack_reads(spoke, hub, region)
    except AwsError as exc:
        return CheckResult(name, False, describe_error(exc), UNREAD_FIX)
    return CheckResult(name, True, f"allowed; {'some' if packs else 'no'} conformance packs here")


def _check_s3_write(bucket: ReportBucket, hub: Hub, run_id: str) -> CheckResult:
    if not bucket.configured:
        return CheckResult("s3 write", False, "CONFIG_REPORT_S3_BUCKET is not set", "set the report bucket")
    try:
        key = Publisher(bucket).preflight(run_id=run_id, caller=hub.identity.arn, patient=False)
    except PublishError as exc:
        return CheckResult("s3 write", False, exc.reason, exc.fix)
    return CheckResult("s3 write", True, f"wrote {bucket.uri(key or '')}")


def _check_s3_read(bucket: ReportBucket, key: str) -> CheckResult:
    """Earlier reports can be found and read back (each run compares itself with the previous one):
    lists under the prefix down to the marker just written, then reads the marker."""
    prefix = bucket.prefix
    fix = (
        f"grant the hub role s3:ListBucket on {bucket.name} with the condition s3:prefix like {prefix}*, "
        "s3:GetObject on the prefix (and kms:Decrypt on the key)"
    )
    try:
        found = bucket.read(key)
    except UnreadableObject as exc:
        return CheckResult("s3 read", False, f"{exc.action} under {prefix}: {exc.reason}", fix)
    if found is None:
        return CheckResult("s3 read", False, f"s3:ListBucket under {prefix}: {key} was not listed", fix)
    return CheckResult("s3 read", True, f"listed {bucket.uri(prefix)} and read {key} back")


def _check_jira(config: JiraConfig) -> CheckResult:
    # A search in the project proves the URL, the flavor, the credentials and the project in one call.
    try:
        with jira.connect(config) as client:
            client.search(f'project = "{config.project}"', limit=1)
            flavor = client.flavor.value
    except JiraError as exc:
        fix = "check CONFIG_REPORT_JIRA_URL, _JIRA_EMAIL (Cloud) and the token's access to the project"
        return CheckResult("jira", False, str(exc), fix)
    return CheckResult("jira", True, f"{flavor} at {config.url}: can search project {config.project}")
