"""The job, in the order data flows: context → preflight → discover → scan → judge → files → publish → ticket.

Each stage takes the run context (`app.context`) and the report so far, and returns the report with
what it added; the shards and their merge (`app.shards`) and `check` reuse these stages.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from config_report.app.context import RunContext, open_run
from config_report.app.sources import read_compliance
from config_report.aws.organization import DISCOVERY_READERS, list_active_accounts, organizations_client
from config_report.aws.session import region_source
from config_report.aws.tags import ACCOUNT_TAG_READERS, read_account_owners
from config_report.domain.acceptance import apply_exceptions
from config_report.domain.changes import compare
from config_report.domain.figures import finished
from config_report.domain.model import (
    Account,
    AccountScan,
    Baseline,
    Changes,
    CoverageStatus,
    HistoryEntry,
    Report,
    RunInfo,
)
from config_report.domain.outcome import judge_outcome
from config_report.domain.owners import with_account_owners, with_owner_aliases
from config_report.domain.rating import rated, rated_scan
from config_report.domain.scope import account_filter
from config_report.domain.severity import Severity
from config_report.domain.shelved import shelved_of
from config_report.domain.trend import counted_once, entry_for, rebuilt_entry, recorded, trend, trend_start
from config_report.errors import ConfigReportError, ExitCode, JiraError
from config_report.jira import PublishedWorkbook, TicketOutcome, sync_weekly_ticket
from config_report.logs import get_logger
from config_report.render.terminal import Progress, show_run
from config_report.render.xlsx.workbook import write_workbook
from config_report.settings import Settings
from config_report.store.baseline import (
    UnreadableSnapshot,
    describe_baseline,
    find_baseline,
    list_snapshots,
    read_snapshot_object,
    recent_reports,
)
from config_report.store.history import HistoryStore, LoadedHistory
from config_report.store.publish import (
    PublishedRun,
    describe_files,
    keep_local_copy,
    report_file_names,
    write_manifest,
)
from config_report.store.snapshot import write_snapshot
from config_report.store.tickets import TicketRecords

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a run produced and how the process should exit."""

    report: Report
    published: PublishedRun
    exit_code: ExitCode


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
    `INTERRUPTED`. `started_at` is the run's clock when given (the demo replays last week's run).
    """
    context = open_run(settings, as_json=as_json, dry_run=dry_run, stop=stop, started_at=started_at)
    log = get_logger()
    log_start(context)
    log_default_region(context)
    preflight(context)
    # Last week's snapshot is read and parsed while the scan waits on AWS: both are needed only after.
    with Meanwhile(lambda: previous_run(context), name="baseline") as earlier:
        report = scan_report(context)
        if context.stop.is_set():
            log.warning(
                "run.interrupted",
                run_id=context.run_id,
                reason="SIGTERM: no more account × region was started; what was read is published now",
                interrupted=sum(1 for c in report.coverage() if c.status is CoverageStatus.INTERRUPTED),
            )
        return deliver(context, judged(context, report), earlier=earlier.result())


def log_start(context: RunContext) -> None:
    """`run.start`: the run, its identity and region; in JSON with every setting.

    On a terminal it stays one line: forty settings would fill the screen, and they are in the run
    manifest (and in the JSON line) for whoever needs them.
    """
    run: dict[str, object] = {
        "run_id": context.run_id,
        "identity": context.hub.identity.arn,
        "credentials": context.hub.credentials,
        "region": context.hub.region,
        "region_from": region_source(),
        "dry_run": context.dry_run,
    }
    if context.as_json:
        run["settings"] = context.settings.public_view()
    get_logger().info("run.start", **run)


def log_default_region(context: RunContext) -> None:
    """Say so when no region is configured: STS, Organizations and S3 then go to us-east-1."""
    if region_source() == "default":
        get_logger().warning(
            "region.default",
            region=context.hub.region,
            hint="neither AWS_REGION nor AWS_DEFAULT_REGION is set; set AWS_REGION (chart: awsRegion) "
            "to the bucket's region",
        )


def preflight(context: RunContext) -> None:
    """Prove the bucket takes our writes before a single Config call: a typo fails in seconds."""
    try:
        key = context.publisher.preflight(run_id=context.run_id, caller=context.hub.identity.arn)
    except ConfigReportError:
        get_logger().error(
            "preflight.failed", run_id=context.run_id, scanned="nothing: no Config call was made"
        )
        raise
    if key is not None:
        get_logger().info("preflight.done", marker=context.bucket.uri(key))


def discover(context: RunContext, organizations: Any = None) -> list[Account]:
    """The organization's ACTIVE accounts in scope (through `organizations`, default: a new client);
    raises `DiscoveryError` when they cannot be listed."""
    organizations = organizations or organizations_client(context.hub, context.scan)
    readers = min(context.scan.concurrency, DISCOVERY_READERS)
    accounts = list_active_accounts(organizations, account_filter(context.scan), readers=readers)
    get_logger().info("discovery.done", accounts=len(accounts))
    return accounts


def scan_report(context: RunContext, *, accounts: list[Account] | None = None) -> Report:
    """Scan `accounts` (default: discover those in scope) into one `Report`, logging progress."""
    log = get_logger()
    organizations = organizations_client(context.hub, context.scan)
    clock_started = datetime.now(UTC)  # the run's own clock may be a testing time (config_report.clock)
    if accounts is None:
        accounts = discover(context, organizations)
    # Each account's owner tag, once per run (a shard reads those of its own accounts), read while
    # the scan runs: Organizations and the accounts' Config APIs do not wait on each other.
    owners = _read_owners_meanwhile(context, organizations, accounts)
    overrides = severity_overrides(context)

    def account_done(scan: AccountScan, done: int, total: int) -> AccountScan:
        # On a terminal the bar shows progress; only accounts with gaps get a line of their own.
        # A gap is logged at warning: the line an alert on "coverage lost in account X" matches.
        gaps = _gaps(scan)
        if context.as_json or not scan.status.complete:
            (log.warning if gaps else log.info)(
                "account.done",
                account_id=scan.account.id,
                account_name=scan.account.name,
                status=scan.status.value,
                rules=len(scan.rules),
                findings=len(scan.findings),
                gaps=gaps,
            )
        # Rated before it is shelved: the findings are written once, already carrying their severity.
        scan = rated_scan(scan, overrides)
        spool = context.spool
        return replace(scan, rules=shelved_of(scan.rules, spool), findings=shelved_of(scan.findings, spool))

    with owners, Progress(accounts=len(accounts), as_json=context.as_json) as progress:
        scans = read_compliance(
            accounts,
            source=context.settings.source,
            hub=context.hub,
            scan=context.scan,
            aggregator=context.aggregator,
            on_account_done=account_done,
            on_unit_done=progress.update,
            stop=context.stop,
        )
        owned = {account.id: account for account in owners.result()}
    scans = tuple(replace(scan, account=owned[scan.account.id]) for scan in scans)
    report = Report(run=run_info(context, took=datetime.now(UTC) - clock_started), scans=scans)
    return with_owner_aliases(with_account_owners(report), context.settings.owner_alias_map())


class Meanwhile(Generic[T]):
    """`work` done in a background thread while the run goes on: `result()` waits for it (and raises
    what it raised); leaving the `with` block lets it end before the run goes on."""

    def __init__(self, work: Callable[[], T], *, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._work: Future[T] = self._pool.submit(work)

    def result(self) -> T:
        """What the work returned, once it is done."""
        return self._work.result()

    def __enter__(self) -> Meanwhile[T]:
        return self

    def __exit__(self, *_: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _read_owners_meanwhile(
    context: RunContext, organizations: Any, accounts: list[Account]
) -> Meanwhile[tuple[Account, ...]]:
    """Start reading the accounts' owner tags beside the scan. The first account's are read now: a
    missing permission (organizations:ListTagsForResource) still fails the run before any Config call."""
    keys = context.scan.owner_tag_keys
    readers = min(context.scan.concurrency, ACCOUNT_TAG_READERS)
    first = read_account_owners(organizations, accounts[:1], keys)

    def the_rest() -> tuple[Account, ...]:
        return (*first, *read_account_owners(organizations, accounts[1:], keys, readers=readers))

    return Meanwhile(the_rest, name="owners")


def severity_overrides(context: RunContext) -> tuple[tuple[str, Severity], ...]:
    """The user's rule severities (CONFIG_REPORT_SEVERITY_OVERRIDES), in the order given."""
    return tuple((glob, Severity(level)) for glob, level in context.settings.severity_pairs())


def run_info(context: RunContext, *, took: timedelta) -> RunInfo:
    """The run's header: its identity, who ran it, over which regions, with which settings; it
    finished `took` after its start."""
    return RunInfo(
        run_id=context.run_id,
        started_at=context.started_at,
        finished_at=context.started_at + took,
        identity=context.hub.identity.arn,
        regions=context.scan.regions,
        settings=context.settings.public_view(),
    )


def judged(context: RunContext, report: Report) -> Report:
    """`report` with the accepted exceptions applied (each entry's outcome listed), when a file is set,
    and the way to request one."""
    report = replace(report, exception_request=context.settings.exception_request)
    if not context.settings.exceptions_file:
        return report
    return apply_exceptions(report, context.exceptions, today=context.started_at.date())


def deliver(context: RunContext, report: Report, *, earlier: Earlier | None = None) -> RunOutcome:
    """Compare with earlier runs (`earlier`: the previous run, when already read), publish the report,
    then the Jira ticket; the outcome says how the process exits."""
    log = get_logger()
    report = finished(compare_with_previous_run(context, report, earlier))
    report, history = with_trend(context, report)
    staging = Path(tempfile.mkdtemp(prefix=f"config-report-{report.run.run_id}-"))
    published = publish(context, report, staging)
    if history is not None:
        # Only a published run joins the history, so the trend never shows a report nobody can open.
        context.publisher.save_history(history.store, history.loaded, entry_for(report))
    # Jira: the weekly ticket is created or updated here, once the report is safely published.
    jira_ok = sync_jira(context, report, published)
    if context.publisher.writes:
        # Kept until now because the workbook is attached to the ticket from here; a dry run keeps
        # its files for the reader (run.done names them).
        shutil.rmtree(staging, ignore_errors=True)
    figures = report.figures
    ending = judge_outcome(report, jira_ok=jira_ok, policy=context.outcome)
    files = published.uris() if context.publisher.writes else [str(f.local_path) for f in published.files]
    getattr(log, ending.log_level)(
        "run.done",
        run_id=report.run.run_id,
        exit_code=int(ending.exit_code),
        outcome=ending.outcome.name,
        tolerated=ending.tolerated,
        accounts_with_gaps=ending.gap_accounts,
        dry_run=context.dry_run,
        accounts=figures.accounts,
        coverage_gaps=figures.coverage_gaps,
        rules_unread=figures.rules_unread,
        noncompliant_resources=figures.noncompliant_resources,
        failing_evaluations=figures.failing_evaluations,
        # On a terminal the table below names the workbook; the other files lie beside it.
        **({"files": files} if context.as_json else {}),
    )
    if not context.as_json:
        show_run(report, outcome=ending, workbook=workbook_locations(context, published))
    return RunOutcome(report=report, published=published, exit_code=ending.exit_code)


def workbook_locations(context: RunContext, published: PublishedRun) -> list[str]:
    """Where a person opens the workbook: in S3, and the local copy (a dry run's only copy) when kept."""
    workbook = published.workbook
    where = [workbook.uri(published.bucket)] if context.publisher.writes else []
    if not context.publisher.writes:
        where.append(f"{workbook.local_path} (dry run: nothing uploaded)")
    elif context.settings.output_dir is not None:
        where.append(f"{workbook.local_path} (local copy)")
    return where


Earlier = tuple[Report | None, Baseline]
"""The previous run's report (None when there is none to compare with) and where it came from."""


def previous_run(context: RunContext) -> Earlier:
    """The previous run's snapshot, its findings on the run's spool, rated by today's table and
    overrides (a change of severity is not a change of findings); or why there is none."""
    log = get_logger()
    previous, baseline = find_baseline(
        context.bucket, explicit=context.settings.baseline, run_id=context.run_id, shelf=context.spool
    )
    if baseline.usable:
        log.info("baseline.found", source=baseline.source, baseline_run_id=baseline.run_id)
    else:
        log.warning("baseline.none", reason=baseline.problem)
    return (rated(previous, severity_overrides(context)) if previous else None), baseline


def compare_with_previous_run(context: RunContext, report: Report, earlier: Earlier | None = None) -> Report:
    """`report` judged against the previous run (`earlier`, else read now): statuses, first-seen dates
    and changes."""
    log = get_logger()
    previous, baseline = earlier if earlier is not None else previous_run(context)
    judged_report = compare(report, previous, baseline)
    changes = judged_report.changes
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
    return judged_report


@dataclass(frozen=True, slots=True)
class _History:
    store: HistoryStore
    loaded: LoadedHistory


def with_trend(context: RunContext, report: Report) -> tuple[Report, _History | None]:
    """`report` with its 12-week trend, and the history to record it in (None without a bucket)."""
    current = entry_for(report)
    until = report.run.started_at
    if not context.bucket.configured:
        return replace(report, trend=trend([current], until=until)), None
    store = HistoryStore(context.bucket)
    since = f"{trend_start(until):%Y%m%dT%H%M%SZ}"

    def rebuilt() -> list[HistoryEntry]:
        reports = recent_reports(context.bucket, since_run_id=since, shelf=context.spool)
        return [rebuilt_entry(r) for r in reports]

    loaded = store.load(rebuilt)
    if not all(counted_once(e) for e in trend(loaded.entries, until=until)):
        # Lines from before resources were counted once: their runs' snapshots count them again.
        again = {e.run_id: e for e in rebuilt()}
        loaded = replace(loaded, entries=tuple(again.get(e.run_id, e) for e in loaded.entries))
    entries = recorded(loaded.entries, current)
    return replace(report, trend=trend(entries, until=until)), _History(store, loaded)


def publish(context: RunContext, report: Report, staging: Path) -> PublishedRun:
    """Write the workbook, snapshot and manifest, keep a local copy when asked, upload, point latest.json.

    Files are staged in `staging`, which the caller removes once everything is uploaded and the ticket
    is done. In a pod that folder is gone with the pod, so a failed upload says what is lost.
    """
    log = get_logger()
    run = report.run
    folder = context.bucket.run_folder(run.started_at, run.run_id)
    names = report_file_names(run.run_id)
    content = describe_files(
        [write_workbook(report, staging / names.workbook), write_snapshot(report, staging / names.snapshot)],
        folder,
    )
    bucket = context.bucket.name or None
    manifest = describe_files(
        [write_manifest(report, content, staging / names.manifest, bucket=bucket)], folder
    )
    files = (*content, *manifest)
    output_dir = context.settings.output_dir
    if output_dir is not None:
        files = keep_local_copy(files, output_dir)
        log.info("local_copy.written", folder=str(output_dir), files=[f.name for f in files])
    published = PublishedRun(
        bucket=context.bucket.name, region=context.hub.region, run_prefix=folder, files=files
    )
    try:
        context.publisher.upload(published)
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
            local_copy=str(output_dir) if output_dir is not None else None,
        )
        raise
    try:
        key = context.publisher.point_latest(published, report)
    except ConfigReportError as exc:
        # The report itself is published: a stale pointer must not make the Job publish it twice.
        log.error("latest.failed", error=str(exc))
    else:
        if key is not None:
            log.info("latest.updated", pointer=context.bucket.uri(key))
    return published


def sync_jira(context: RunContext, report: Report, published: PublishedRun) -> bool:
    """This week's ticket, created or updated; False when Jira failed (the report stays published)."""
    log = get_logger()
    if context.jira is None:
        log.info("jira.skipped", reason="no Jira configured (CONFIG_REPORT_JIRA_URL is unset)")
        return True
    try:
        outcome: TicketOutcome = sync_weekly_ticket(
            context.jira,
            report,
            published_workbook(published),
            TicketRecords(context.bucket),
            dry_run=context.dry_run,
            since_run=lambda run_id: changes_since_run(context, report, run_id),
        )
    except JiraError as exc:
        log.error("jira.failed", error=str(exc), exit_code=int(ExitCode.JIRA_FAILED))
        return False
    log.info("jira.done", action=outcome.action, key=outcome.key, url=outcome.url, message=outcome.message)
    return True


def published_workbook(published: PublishedRun) -> PublishedWorkbook:
    """The published workbook as the ticket links it and attaches it."""
    workbook = published.workbook
    return PublishedWorkbook(
        file_name=workbook.name,
        s3_uri=workbook.uri(published.bucket),
        console_url=published.console_url(workbook),
        size_bytes=workbook.size,
        local_path=workbook.local_path,
    )


def changes_since_run(context: RunContext, report: Report, run_id: str) -> Changes | None:
    """What changed between run `run_id` (e.g. the one that created this week's ticket) and `report`."""
    changes = report.changes
    if changes is not None and changes.baseline.run_id == run_id:
        return changes
    try:
        found = [s for s in list_snapshots(context.bucket) if s.run_id == run_id]
        if not found:
            return None
        earlier = read_snapshot_object(context.bucket, found[0], context.spool)
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
