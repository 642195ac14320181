"""The job, in the order data flows: settings → discover → scan → report files → publish → ticket."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config_report.aws.organization import AccountFilter, list_active_accounts
from config_report.aws.region import ReadOptions
from config_report.aws.scan import ScanPlan, scan_organization
from config_report.aws.session import (
    Identity,
    assume_role_session,
    caller_identity,
    client_config,
    describe_error,
    hub_region,
    hub_session,
    is_network_error,
    network_error,
    probe_config,
    region_source,
)
from config_report.aws.tags import ACCOUNT_TAG_READERS, read_account_owners, with_account_owners
from config_report.clock import run_started_at
from config_report.domain.acceptance import AcceptedException, apply_exceptions, read_exceptions
from config_report.domain.changes import compare
from config_report.domain.model import Account, AccountScan, Changes, CoverageStatus, Report, RunInfo
from config_report.domain.outcome import judge_outcome
from config_report.domain.rules import RuleFilter
from config_report.errors import (
    ConfigReportError,
    DiscoveryError,
    ExitCode,
    JiraError,
    NetworkError,
    SettingsError,
)
from config_report.jira import S3TicketLedger, sync_weekly_ticket
from config_report.logs import get_logger
from config_report.render.terminal import Progress, show_figures
from config_report.render.xlsx.workbook import write_workbook
from config_report.settings import Settings
from config_report.store.baseline import (
    UnreadableSnapshot,
    describe_baseline,
    find_baseline,
    list_snapshots,
    read_s3_snapshot,
    recent_reports,
)
from config_report.store.bucket import (
    PublishedRun,
    Retry,
    describe_files,
    keep_local_copy,
    new_run_id,
    report_file_names,
    run_prefix,
    upload,
    write_latest_pointer,
    write_manifest,
    write_preflight_marker,
)
from config_report.store.history import (
    HistoryStore,
    LoadedHistory,
    entry_for,
    rebuilt_entry,
    recorded,
    trend,
    trend_start,
)
from config_report.store.snapshot import write_snapshot


@dataclass(frozen=True, slots=True)
class Hub:
    """The hub's identity and the clients every stage shares."""

    identity: Identity
    session: Any
    sts: Any
    config: Any


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a run produced and how the process should exit."""

    report: Report
    published: PublishedRun
    exit_code: ExitCode


def connect_hub(settings: Settings) -> Hub:
    """Hub credentials from the default chain, proven by asking STS who they are."""
    session = hub_session()
    config = client_config(
        max_attempts=settings.max_attempts,
        pool_size=max(10, settings.concurrency),
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    sts = session.client("sts", config=config)
    try:
        identity = caller_identity(session.client("sts", config=probe_config(config)))
    except (ClientError, BotoCoreError) as exc:
        if is_network_error(exc):
            raise NetworkError(network_error(exc, what="asking STS who the hub is")) from exc
        raise ConfigReportError(
            f"no usable hub credentials ({describe_error(exc)}); in EKS check the ServiceAccount's "
            "eks.amazonaws.com/role-arn annotation and the role's OIDC trust, elsewhere AWS_PROFILE or keys"
        ) from exc
    return Hub(identity=identity, session=session, sts=sts, config=config)


def organizations_client(hub: Hub, settings: Settings) -> Any:
    """Organizations as the org role when one is set, else as the hub itself."""
    if not settings.org_role_arn:
        return hub.session.client("organizations", config=hub.config)
    try:
        session = assume_role_session(
            hub.sts, settings.org_role_arn, session_name=settings.session_name, region=hub_region()
        )
    except (ClientError, BotoCoreError) as exc:
        if is_network_error(exc):
            raise NetworkError(network_error(exc, what="assuming CONFIG_REPORT_ORG_ROLE_ARN")) from exc
        raise DiscoveryError(
            f"cannot assume CONFIG_REPORT_ORG_ROLE_ARN {settings.org_role_arn} ({describe_error(exc)}); "
            f"check that role's trust policy allows {hub.identity.arn}"
        ) from exc
    return session.client("organizations", config=hub.config)


def account_filter(settings: Settings) -> AccountFilter:
    """The account and OU filters from settings."""
    return AccountFilter(
        accounts=frozenset(settings.accounts),
        exclude_accounts=frozenset(settings.exclude_accounts),
        ous=frozenset(settings.ous),
        exclude_ous=frozenset(settings.exclude_ous),
    )


def read_options(settings: Settings) -> ReadOptions:
    """How each region is read: the rule filters and when a rule counts as stale."""
    return ReadOptions(
        rule_filter=RuleFilter(include=tuple(settings.rules), exclude=tuple(settings.exclude_rules)),
        stale_after=timedelta(days=settings.stale_rule_days),
    )


def scan_plan(hub: Hub, settings: Settings) -> ScanPlan:
    """What every scanning worker shares."""
    return ScanPlan(
        reading=read_options(settings),
        hub=hub.identity,
        sts=hub.sts,
        spoke_role_name=settings.spoke_role_name,
        session_name=settings.session_name,
        external_id=settings.spoke_external_id(),
        regions=tuple(settings.regions),
        config=hub.config,
        home_region=hub_region(),
        owner_tag_keys=tuple(settings.owner_tag_keys),
    )


def run(
    settings: Settings,
    *,
    as_json: bool,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    started_at: datetime | None = None,
) -> RunOutcome:
    """Scan the organization, write the report files and publish them; never raises for one account.

    Once `stop` is set (SIGTERM) no more units are scanned; what was read is published, with the rest
    `INTERRUPTED`. `started_at` is the run's clock when given (the demo replays last week's run), else
    `clock`'s.
    """
    if not settings.s3_bucket and not dry_run:
        raise SettingsError(
            "CONFIG_REPORT_S3_BUCKET (--s3-bucket) is not set; `run` publishes to S3: set the report bucket"
        )
    log = get_logger()
    started = started_at or run_started_at()
    run_id = new_run_id(started)
    # A local exceptions file is checked before any AWS call; one in S3 as soon as the hub can read it.
    in_s3 = (settings.exceptions_file or "").startswith("s3://")
    exceptions = () if in_s3 else load_exceptions(settings, None)
    hub = connect_hub(settings)
    if in_s3:
        exceptions = load_exceptions(settings, hub)
    log.info(
        "run.start",
        run_id=run_id,
        identity=hub.identity.arn,
        region=hub_region(),
        region_from=region_source(),
        dry_run=dry_run,
        settings=settings.public_view(),
    )
    log_default_region()
    if not dry_run:
        preflight(hub, settings, run_id=run_id)

    report = scan_report(hub, settings, run_id=run_id, started=started, as_json=as_json, stop=stop)
    if stop is not None and stop.is_set():
        log.warning(
            "run.interrupted",
            run_id=run_id,
            reason="SIGTERM: no more account × region was started; what was read is published now",
            interrupted=sum(1 for c in report.coverage() if c.status is CoverageStatus.INTERRUPTED),
        )
    if settings.exceptions_file:
        report = apply_exceptions(report, exceptions, today=started.date())
    outcome = deliver(report, settings, hub, dry_run=dry_run)
    if not as_json:
        show_figures(outcome.report.figures(), exit_code=int(outcome.exit_code))
    return outcome


def deliver(report: Report, settings: Settings, hub: Hub, *, dry_run: bool) -> RunOutcome:
    """Compare with earlier runs, publish a scanned report, then the Jira ticket; the outcome says how
    the process exits."""
    log = get_logger()
    run_id = report.run.run_id
    s3 = hub.session.client("s3", config=hub.config)
    report = compare_with_previous_run(report, settings, s3)
    report, history = with_trend(report, settings, s3)
    staging = Path(tempfile.mkdtemp(prefix=f"config-report-{run_id}-"))
    published = publish(report, settings, hub, staging=staging, dry_run=dry_run)
    if history is not None and not dry_run:
        # Only a published run joins the history, so the trend never shows a report nobody can open.
        history.save(report)
    # Jira: the weekly ticket is created or updated here, once the report is safely published.
    jira_ok = sync_jira(settings, report, published, hub, dry_run=dry_run)
    if not dry_run:
        # Kept until now because the workbook is attached to the ticket from here.
        shutil.rmtree(staging, ignore_errors=True)
    figures = report.figures()
    ending = judge_outcome(
        report, jira_ok=jira_ok, fail_on=settings.fail_on, gap_tolerance=settings.gap_tolerance
    )
    exit_code = ending.exit_code
    getattr(log, ending.log_level)(
        "run.done",
        run_id=run_id,
        exit_code=int(exit_code),
        outcome=ending.outcome.name,
        tolerated=ending.tolerated,
        accounts_with_gaps=ending.gap_accounts,
        dry_run=dry_run,
        accounts=figures.accounts,
        coverage_gaps=figures.coverage_gaps,
        rules_unread=figures.rules_unread,
        noncompliant_resources=figures.noncompliant_resources,
        files=published.uris() if not dry_run else [str(f.local_path) for f in published.files],
    )
    return RunOutcome(report=report, published=published, exit_code=exit_code)


def log_default_region() -> None:
    """Say so when no region is configured: STS, Organizations and S3 then go to us-east-1."""
    if region_source() == "default":
        get_logger().warning(
            "region.default",
            region=hub_region(),
            hint="neither AWS_REGION nor AWS_DEFAULT_REGION is set; set AWS_REGION (chart: awsRegion) "
            "to the bucket's region",
        )


def preflight(hub: Hub, settings: Settings, *, run_id: str) -> None:
    """Prove the bucket takes our writes before a single Config call: a typo fails in seconds."""
    try:
        key = write_preflight_marker(
            hub.session.client("s3", config=hub.config),
            settings.s3_bucket or "",
            settings.s3_prefix,
            run_id=run_id,
            caller=hub.identity.arn,
            kms_key_id=settings.s3_kms_key_id,
            retry=Retry(seconds=settings.upload_retry_seconds, refusals=False),
        )
    except ConfigReportError:
        get_logger().error("preflight.failed", run_id=run_id, scanned="nothing: no Config call was made")
        raise
    get_logger().info("preflight.done", marker=f"s3://{settings.s3_bucket}/{key}")


def load_exceptions(settings: Settings, hub: Hub | None) -> tuple[AcceptedException, ...]:
    """The accepted exceptions of `CONFIG_REPORT_EXCEPTIONS_FILE`, checked; none when it is unset.

    `hub` reads an `s3://` location and may be None for a local file.
    """
    if not settings.exceptions_file:
        return ()
    s3 = hub.session.client("s3", config=hub.config) if hub is not None else None
    exceptions = read_exceptions(settings.exceptions_file, s3=s3)
    get_logger().info("exceptions.loaded", source=settings.exceptions_file, entries=len(exceptions))
    return exceptions


def scan_report(
    hub: Hub,
    settings: Settings,
    *,
    run_id: str,
    started: datetime,
    as_json: bool,
    stop: threading.Event | None = None,
    accounts: Sequence[Account] | None = None,
) -> Report:
    """Scan `accounts` (default: discover those in scope) into one `Report`, logging progress."""
    log = get_logger()
    organizations = organizations_client(hub, settings)
    clock_started = datetime.now(UTC)  # `started` may be a testing time (config_report.clock)
    if accounts is None:
        accounts = list_active_accounts(organizations, account_filter(settings))
        log.info("discovery.done", accounts=len(accounts))
    # Each account's owner tag, once per run (a shard reads those of its own accounts).
    readers = min(settings.concurrency, ACCOUNT_TAG_READERS)
    accounts = account_owners(organizations, accounts, settings.owner_tag_keys, readers=readers)
    progress = Progress(total=len(accounts) * max(1, len(settings.regions)), as_json=as_json)

    def account_done(scan: AccountScan, done: int, total: int) -> None:
        # On a terminal the bar shows progress; only accounts with gaps get a line of their own.
        # A gap is logged at warning: the line an alert on "coverage lost in account X" matches.
        has_gap = bool(_gaps(scan))
        if as_json or scan.status != "OK":
            (log.warning if has_gap else log.info)(
                "account.done",
                account_id=scan.account.id,
                account_name=scan.account.name,
                status=scan.status,
                rules=len(scan.rules),
                findings=len(scan.findings),
                gaps=_gaps(scan),
            )

    scans = scan_organization(
        accounts,
        scan_plan(hub, settings),
        concurrency=settings.concurrency,
        per_account=settings.account_concurrency,
        on_account_done=account_done,
        on_unit_done=progress.update,
        stop=stop,
    )
    progress.close()
    report = Report(
        run=RunInfo(
            run_id=run_id,
            started_at=started,
            finished_at=started + (datetime.now(UTC) - clock_started),
            identity=hub.identity.arn,
            regions=tuple(settings.regions),
            settings=settings.public_view(),
        ),
        scans=scans,
    )
    return with_account_owners(report)


def account_owners(
    organizations: Any, accounts: Sequence[Account], keys: list[str], *, readers: int = 1
) -> tuple[Account, ...]:
    """`accounts` with their owners from Organizations tags, `readers` at once; `DiscoveryError` if denied."""
    try:
        return read_account_owners(organizations, accounts, keys, readers=readers)
    except (ClientError, BotoCoreError) as exc:
        raise DiscoveryError(
            f"cannot read the accounts' tags ({describe_error(exc)}); the org role needs "
            "organizations:ListTagsForResource on the organization's accounts"
        ) from exc


def compare_with_previous_run(report: Report, settings: Settings, s3: Any) -> Report:
    """`report` judged against the previous run's snapshot: statuses, first-seen dates and changes."""
    log = get_logger()
    previous, baseline = find_baseline(
        s3,
        bucket=settings.s3_bucket,
        prefix=settings.s3_prefix,
        explicit=settings.baseline,
        run_id=report.run.run_id,
    )
    if baseline.usable:
        log.info("baseline.found", source=baseline.source, baseline_run_id=baseline.run_id)
    else:
        log.warning("baseline.none", reason=baseline.problem)
    judged = compare(report, previous, baseline)
    changes = judged.changes
    if changes is not None and baseline.usable:
        log.info(
            "changes.done",
            new=len(changes.new),
            resolved=len(changes.resolved),
            persisting=changes.persisting,
            not_comparable=changes.not_comparable,
            joined=[a.id for a in changes.joined],
            left=[a.id for a in changes.left],
        )
    return judged


@dataclass(frozen=True, slots=True)
class _History:
    store: HistoryStore
    loaded: LoadedHistory

    def save(self, report: Report) -> None:
        if self.store.save(self.loaded, entry_for(report)):
            get_logger().info("history.saved", history=self.store.uri)


def with_trend(report: Report, settings: Settings, s3: Any) -> tuple[Report, _History | None]:
    """`report` with its 12-week trend, and the history to record it in (None without a bucket)."""
    current = entry_for(report)
    until = report.run.started_at
    if settings.s3_bucket is None:
        return replace(report, trend=trend([current], until=until)), None
    bucket, prefix = settings.s3_bucket, settings.s3_prefix
    store = HistoryStore(s3, bucket=bucket, prefix=prefix, kms_key_id=settings.s3_kms_key_id)
    since = f"{trend_start(until):%Y%m%dT%H%M%SZ}"
    loaded = store.load(
        lambda: [rebuilt_entry(r) for r in recent_reports(s3, bucket, prefix, since_run_id=since)]
    )
    return replace(report, trend=trend(recorded(loaded.entries, current), until=until)), _History(
        store, loaded
    )


def publish(report: Report, settings: Settings, hub: Hub, *, staging: Path, dry_run: bool) -> PublishedRun:
    """Write the workbook, snapshot and manifest, keep a local copy when asked, upload, point latest.json.

    Files are staged in `staging`, which the caller removes once everything is uploaded and the ticket
    is done. In a pod that folder is gone with the pod, so a failed upload says what is lost.
    """
    log = get_logger()
    run = report.run
    prefix = run_prefix(settings.s3_prefix, run.started_at, run.run_id)
    names = report_file_names(run.run_id)
    content = describe_files(
        [write_workbook(report, staging / names.workbook), write_snapshot(report, staging / names.snapshot)],
        prefix,
    )
    manifest = describe_files(
        [write_manifest(report, content, staging / names.manifest, bucket=settings.s3_bucket)], prefix
    )
    files = (*content, *manifest)
    if settings.output_dir is not None:
        files = keep_local_copy(files, settings.output_dir)
        log.info("local_copy.written", folder=str(settings.output_dir), files=[f.name for f in files])
    published = PublishedRun(
        bucket=settings.s3_bucket or "",
        region=hub_region(),
        run_prefix=prefix,
        files=files,
    )
    if dry_run:
        log.info("dry_run.would_upload", keys=[f"s3://{settings.s3_bucket}/{f.key}" for f in files])
        return published
    s3 = hub.session.client("s3", config=hub.config)
    try:
        upload(
            s3,
            published.bucket,
            files,
            kms_key_id=settings.s3_kms_key_id,
            retry=Retry(seconds=settings.upload_retry_seconds),
        )
    except ConfigReportError as exc:
        log.error(
            "publish.failed",
            run_id=run.run_id,
            error=str(exc),
            lost=(
                "this run's report is not in S3 (a run without its manifest is incomplete); its files "
                "exist only in this pod's temporary storage and disappear with the pod: fix the cause, "
                "then run a new Job"
            ),
            local_copy=str(settings.output_dir) if settings.output_dir is not None else None,
        )
        raise
    try:
        key = write_latest_pointer(
            s3, published, report, prefix=settings.s3_prefix, kms_key_id=settings.s3_kms_key_id
        )
        log.info("latest.updated", pointer=f"s3://{published.bucket}/{key}")
    except ConfigReportError as exc:
        # The report itself is published: a stale pointer must not make the Job publish it twice.
        log.error("latest.failed", error=str(exc))
    return published


def sync_jira(
    settings: Settings, report: Report, published: PublishedRun, hub: Hub, *, dry_run: bool
) -> bool:
    """This week's ticket, created or updated; False when Jira failed (the report stays published)."""
    log = get_logger()
    if not settings.jira_enabled:
        log.info("jira.skipped", reason="no Jira configured (CONFIG_REPORT_JIRA_URL is unset)")
        return True
    s3 = hub.session.client("s3", config=hub.config)
    ledger = S3TicketLedger(
        s3,
        bucket=published.bucket,
        prefix=settings.s3_prefix,
        kms_key_id=settings.s3_kms_key_id,
    )
    try:
        outcome = sync_weekly_ticket(
            settings,
            report,
            published,
            ledger,
            dry_run=dry_run,
            since_run=lambda run_id: changes_since_run(report, run_id, settings, s3),
        )
    except JiraError as exc:
        log.error("jira.failed", error=str(exc), exit_code=int(ExitCode.JIRA_FAILED))
        return False
    log.info("jira.done", action=outcome.action, key=outcome.key, url=outcome.url, message=outcome.message)
    return True


def changes_since_run(report: Report, run_id: str, settings: Settings, s3: Any) -> Changes | None:
    """What changed between run `run_id` (e.g. the one that created this week's ticket) and `report`."""
    changes = report.changes
    if changes is not None and changes.baseline.run_id == run_id:
        return changes
    bucket = settings.s3_bucket or ""
    try:
        found = [s for s in list_snapshots(s3, bucket, settings.s3_prefix) if s.run_id == run_id]
        if not found:
            return None
        earlier = read_s3_snapshot(s3, bucket, found[0].key)
    except UnreadableSnapshot as exc:
        get_logger().warning("jira.ticket_run_unreadable", run_id=run_id, reason=str(exc))
        return None
    return compare(report, earlier, describe_baseline(earlier, found[0].uri)).changes


def _gaps(scan: AccountScan) -> dict[str, list[str]]:
    # A denied role fails every region for the same reason: say the reason once, with its regions.
    reasons: dict[str, list[str]] = {}
    for row in scan.coverage:
        if row.status.is_gap:
            reasons.setdefault(f"{row.status.value}: {row.detail}", []).append(row.region)
    # A rule that alone could not be read is a partial gap: its reason, once per rule.
    for rule in scan.rules:
        if rule.unread:
            reasons.setdefault(f"{rule.read_status.value}: {rule.read_detail}", []).append(rule.region)
    return reasons
