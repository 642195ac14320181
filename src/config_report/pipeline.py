"""The job, in the order data flows: settings → discover → scan → report files → publish → ticket."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config_report.aws import (
    Identity,
    assume_role_session,
    caller_identity,
    client_config,
    describe_error,
    hub_region,
    hub_session,
)
from config_report.errors import ConfigReportError, DiscoveryError, ExitCode, JiraError, SettingsError
from config_report.jira import S3TicketLedger, sync_weekly_ticket
from config_report.logs import Progress, get_logger
from config_report.model import AccountScan, Report, RunInfo
from config_report.organization import AccountFilter, list_active_accounts
from config_report.publish import (
    PublishedRun,
    describe_files,
    keep_local_copy,
    new_run_id,
    report_file_names,
    run_prefix,
    upload,
    write_manifest,
)
from config_report.scan import ScanPlan, scan_organization
from config_report.settings import Settings
from config_report.snapshot import write_snapshot
from config_report.workbook import write_workbook


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
    config = client_config(max_attempts=settings.max_attempts, pool_size=max(10, settings.concurrency))
    sts = session.client("sts", config=config)
    try:
        identity = caller_identity(sts)
    except (ClientError, BotoCoreError) as exc:
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


def scan_plan(hub: Hub, settings: Settings) -> ScanPlan:
    """What every scanning worker shares."""
    return ScanPlan(
        hub=hub.identity,
        sts=hub.sts,
        spoke_role_name=settings.spoke_role_name,
        session_name=settings.session_name,
        external_id=settings.spoke_external_id(),
        regions=tuple(settings.regions),
        config=hub.config,
        home_region=hub_region(),
    )


def run(settings: Settings, *, as_json: bool, dry_run: bool = False) -> RunOutcome:
    """Scan the organization, write the report files and publish them; never raises for one account."""
    if not settings.s3_bucket and not dry_run:
        raise SettingsError(
            "CONFIG_REPORT_S3_BUCKET (--s3-bucket) is not set; `run` publishes to S3: set the report bucket"
        )
    log = get_logger()
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    hub = connect_hub(settings)
    log.info(
        "run.start",
        run_id=run_id,
        identity=hub.identity.arn,
        dry_run=dry_run,
        settings=settings.public_view(),
    )

    report = scan_report(hub, settings, run_id=run_id, started=started, as_json=as_json)
    staging = Path(tempfile.mkdtemp(prefix=f"config-report-{run_id}-"))
    published = publish(report, settings, hub, staging=staging, dry_run=dry_run)
    # Jira: the weekly ticket is created or updated here, once the report is safely published.
    jira_ok = sync_jira(settings, report, published, hub, dry_run=dry_run)
    if not dry_run:
        # Kept until now because the workbook is attached to the ticket from here.
        shutil.rmtree(staging, ignore_errors=True)
    figures = report.figures()
    # A failed ticket outranks a coverage gap: both reports are published, but nobody was told.
    exit_code = ExitCode.OK if figures.complete else ExitCode.INCOMPLETE
    if not jira_ok:
        exit_code = ExitCode.JIRA_FAILED
    log.info(
        "run.done",
        run_id=run_id,
        exit_code=int(exit_code),
        dry_run=dry_run,
        accounts=figures.accounts,
        coverage_gaps=figures.coverage_gaps,
        noncompliant_resources=figures.noncompliant_resources,
        files=published.uris() if not dry_run else [str(f.local_path) for f in published.files],
    )
    return RunOutcome(report=report, published=published, exit_code=exit_code)


def scan_report(hub: Hub, settings: Settings, *, run_id: str, started: datetime, as_json: bool) -> Report:
    """Discover the accounts in scope and scan them all into one `Report`, logging progress."""
    log = get_logger()
    accounts = list_active_accounts(organizations_client(hub, settings), account_filter(settings))
    log.info("discovery.done", accounts=len(accounts))
    progress = Progress(total=len(accounts) * max(1, len(settings.regions)), as_json=as_json)

    def account_done(scan: AccountScan, done: int, total: int) -> None:
        # On a terminal the bar shows progress; only accounts with gaps get a line of their own.
        if as_json or scan.status != "OK":
            log.info(
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
    )
    return Report(
        run=RunInfo(
            run_id=run_id,
            started_at=started,
            finished_at=datetime.now(UTC),
            identity=hub.identity.arn,
            regions=tuple(settings.regions),
            settings=settings.public_view(),
        ),
        scans=scans,
    )


def publish(report: Report, settings: Settings, hub: Hub, *, staging: Path, dry_run: bool) -> PublishedRun:
    """Write the workbook, snapshot and manifest, keep a local copy when asked, then upload to S3.

    Files are staged in `staging`, which the caller removes only once everything is uploaded and the
    ticket is done, so a failed upload leaves the report on disk (its path is logged) rather than losing it.
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
    try:
        upload(
            hub.session.client("s3", config=hub.config),
            published.bucket,
            files,
            kms_key_id=settings.s3_kms_key_id,
        )
    except ConfigReportError:
        log.error("publish.failed", files_kept_in=str(staging))
        raise
    return published


def sync_jira(
    settings: Settings, report: Report, published: PublishedRun, hub: Hub, *, dry_run: bool
) -> bool:
    """This week's ticket, created or updated; False when Jira failed (the report stays published)."""
    log = get_logger()
    if not settings.jira_enabled:
        log.info("jira.skipped", reason="no Jira configured (CONFIG_REPORT_JIRA_URL is unset)")
        return True
    ledger = S3TicketLedger(
        hub.session.client("s3", config=hub.config),
        bucket=published.bucket,
        prefix=settings.s3_prefix,
        kms_key_id=settings.s3_kms_key_id,
    )
    try:
        outcome = sync_weekly_ticket(settings, report, published, ledger, dry_run=dry_run)
    except JiraError as exc:
        log.error("jira.failed", error=str(exc), exit_code=int(ExitCode.JIRA_FAILED))
        return False
    log.info("jira.done", action=outcome.action, key=outcome.key, url=outcome.url, message=outcome.message)
    return True


def _gaps(scan: AccountScan) -> dict[str, list[str]]:
    # A denied role fails every region for the same reason: say the reason once, with its regions.
    reasons: dict[str, list[str]] = {}
    for row in scan.coverage:
        if row.status.is_gap:
            reasons.setdefault(f"{row.status.value}: {row.detail}", []).append(row.region)
    return reasons
