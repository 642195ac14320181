"""Sharding: one run split over the pods of a Kubernetes Indexed Job, then merged into one report.

Each pod is shard `CONFIG_REPORT_SHARD_INDEX` (or Kubernetes' `JOB_COMPLETION_INDEX`) of
`CONFIG_REPORT_SHARD_COUNT` and scans its own accounts (`domain.shards`). The pods share one run
through `CONFIG_REPORT_RUN_NAME` (the chart passes the Job's name): the first to start claims the run's
ID and start time (`PREFIX shards/<run-name>.json`), each writes its partial snapshot under the run
folder's `parts/`, and the last to finish claims the merge (`parts/merge.claim`) and publishes the
single workbook, snapshot, manifest and Jira update, through the same stages as an unsharded run.

Claims are create-only writes: exactly one writer wins, the others read what it wrote.
`config-report merge` does the same for a run whose shard never reported (killed, out of retries): the
missing shard's accounts become coverage gaps naming it, and the exit code is 3. Nobody has to run it:
`config-report merge --overdue` (the chart's merge CronJob, hourly) merges every sharded run that is
still unmerged `CONFIG_REPORT_MERGE_DEADLINE_SECONDS` after it started. The deadline outlasts the Job's
own (its pods are gone by then, SIGTERM's grace included), so no shard can report after it; if one
somehow does, its merge claim loses and the week's report stands.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TypeVar

from config_report.app.context import RunContext, open_run
from config_report.app.run import (
    Meanwhile,
    RunOutcome,
    deliver,
    discover,
    judged,
    previous_run,
    run_info,
    scan_report,
)
from config_report.domain.figures import finished
from config_report.domain.model import Account, Report
from config_report.domain.shards import Shard, merged_report
from config_report.errors import ConfigReportError, ExitCode, PublishError, SettingsError
from config_report.logs import get_logger
from config_report.settings import Settings
from config_report.store.baseline import read_stored_snapshot
from config_report.store.bucket import UnreadableObject
from config_report.store.publish import PublishedRun, describe_files, new_run_id
from config_report.store.snapshot import write_snapshot


@dataclass(frozen=True, slots=True)
class SharedRun:
    """The run every shard belongs to: one ID and start time, claimed by the first shard."""

    name: str
    run_id: str
    started_at: datetime
    shard_count: int


def run_shard(settings: Settings, *, as_json: bool, stop: threading.Event | None = None) -> RunOutcome:
    """Scan this pod's shard, publish its part, and merge the whole run if it is the last to finish.

    Once `stop` is set (SIGTERM) the shard scans no more; its part holds the rest as `INTERRUPTED`.
    """
    shard = _shard(settings)
    log = get_logger()
    context, shared = joined_run(settings, as_json=as_json, stop=stop)
    log.info("shard.start", shard=shard.label, run_id=shared.run_id, run_name=shared.name)
    accounts = discover(context)
    own = [a for a in accounts if shard.owns(a)]
    report = finished(scan_report(context, accounts=own))
    part = publish_part(context, shard, report)
    done = finished_shards(context, shared)
    log.info("shard.done", shard=shard.label, accounts=len(own), shards_finished=len(done))
    if len(done) < shard.count or not claim_merge(context, shard.label):
        return RunOutcome(report=report, published=part, exit_code=ExitCode.OK)
    return _merge(context, shared, accounts, done)


def joined_run(
    settings: Settings, *, as_json: bool, stop: threading.Event | None = None
) -> tuple[RunContext, SharedRun]:
    """This pod's run context, joined to the sharded run (claimed now if this pod is the first)."""
    context = open_run(settings, as_json=as_json, stop=stop)
    shared = claim_run(context, datetime.now(UTC))
    return _joined(context, shared), shared


def merge_run(settings: Settings, *, as_json: bool) -> RunOutcome:
    """Merge the parts a sharded run has, as they are: shards that never reported become gaps."""
    _run_name(settings)
    context = open_run(settings, as_json=as_json)
    shared = existing_run(context)
    context = _joined(context, shared)
    done = finished_shards(context, shared)
    get_logger().info("merge.start", run_id=shared.run_id, missing_shards=_missing(shared, done))
    if not claim_merge(context, "config-report merge"):
        raise ConfigReportError(f"run {shared.run_id} ({shared.name}) was merged already")
    return _merge(context, shared, discover(context), done)


def merge_overdue(settings: Settings, *, as_json: bool, now: datetime | None = None) -> ExitCode:
    """Merge every sharded run still unmerged past its deadline (`merge --overdue`), oldest first.

    Each is merged as `merge_run` would (missing shards' accounts are gaps naming them); one that fails
    does not keep the others from merging. The exit code is the worst of theirs: 0 when none was due.
    """
    _bucket_name(settings)
    log = get_logger()
    context = open_run(settings, as_json=as_json)
    due = overdue_runs(context, now or datetime.now(UTC))
    if not due:
        log.info("merge.none_due", deadline_s=settings.merge_deadline_seconds)
        return ExitCode.OK
    accounts = discover(context)
    codes = [_merge_overdue_run(_joined(context, shared), shared, accounts) for shared in due]
    return max(codes, key=_SEVERITY.index)


def overdue_runs(context: RunContext, now: datetime) -> list[SharedRun]:
    """The sharded runs under the prefix that nobody merged and whose deadline has passed, oldest first.

    A run older than the newest published report is left alone (merging it would point latest.json
    back in time): it is logged with the command that merges it by hand.
    """
    deadline = timedelta(seconds=context.settings.merge_deadline_seconds)
    names = _listed(context, context.bucket.shard_run_names)
    runs = sorted((_read_run(context, name) for name in names), key=lambda run: run.run_id)
    newest = max((snapshot.run_id for snapshot in _listed(context, context.bucket.snapshots)), default="")
    due = []
    for run in runs:
        if now < run.started_at + deadline or _merged(context, run):
            continue
        if run.run_id < newest:
            get_logger().info(
                "merge.superseded",
                run_id=run.run_id,
                run_name=run.name,
                newest_run_id=newest,
                fix=f"CONFIG_REPORT_RUN_NAME={run.name} config-report merge, if that week's report is wanted",
            )
            continue
        due.append(run)
    return due


def claim_run(context: RunContext, now: datetime) -> SharedRun:
    """The run's identity: claimed by this shard if it is the first, else read from the first one's claim."""
    name = _run_name(context.settings)
    count = context.settings.shard_count
    proposal = SharedRun(name=name, run_id=new_run_id(now), started_at=now, shard_count=count)
    claim = {"run_id": proposal.run_id, "started_at": now.isoformat(), "shard_count": count}
    if _claim(context, context.bucket.shard_run_key(name), json.dumps(claim).encode()):
        return proposal
    return existing_run(context)


def existing_run(context: RunContext) -> SharedRun:
    """The identity a shard already claimed for `CONFIG_REPORT_RUN_NAME`."""
    return _read_run(context, _run_name(context.settings))


def _read_run(context: RunContext, name: str) -> SharedRun:
    key = context.bucket.shard_run_key(name)
    try:
        claim = json.loads(context.bucket.fetch(key))
    except UnreadableObject as exc:
        raise ConfigReportError(
            f"no sharded run named {name!r} ({exc.uri}: {exc.reason}); check CONFIG_REPORT_RUN_NAME"
        ) from exc
    return SharedRun(
        name=name,
        run_id=claim["run_id"],
        started_at=datetime.fromisoformat(claim["started_at"]),
        # Claims written before the count was recorded: the deployment's count, which they shared.
        shard_count=claim.get("shard_count", context.settings.shard_count),
    )


def finished_shards(context: RunContext, shared: SharedRun) -> dict[int, str]:
    """Shard index (from 0) → key of its part, for the parts of `shared` written so far."""
    return context.bucket.parts(_run_folder(context), count=shared.shard_count)


def claim_merge(context: RunContext, who: str) -> bool:
    """True for exactly one caller per run: the create-only write of the merge claim succeeded."""
    body = json.dumps({"merged_by": who, "at": datetime.now(UTC).isoformat()}).encode()
    return _claim(context, context.bucket.merge_claim_key(_run_folder(context)), body)


_Listed = TypeVar("_Listed")

# Worst last: one overdue run that failed outweighs another's gaps.
_SEVERITY = (ExitCode.OK, ExitCode.INCOMPLETE, ExitCode.JIRA_FAILED, ExitCode.FAILED)


def _merge_overdue_run(context: RunContext, shared: SharedRun, accounts: Sequence[Account]) -> ExitCode:
    log = get_logger()
    if not claim_merge(context, "config-report merge --overdue"):
        log.info("merge.taken", run_id=shared.run_id, run_name=shared.name)  # a late shard won the race
        return ExitCode.OK
    done = finished_shards(context, shared)
    # At warning: a shard that never reported is what an alert on this line should page about.
    log.warning(
        "merge.overdue",
        run_id=shared.run_id,
        run_name=shared.name,
        started_at=shared.started_at.isoformat(),
        deadline_s=context.settings.merge_deadline_seconds,
        missing_shards=_missing(shared, done),
    )
    try:
        return _merge(context, shared, accounts, done).exit_code
    except ConfigReportError as exc:
        log.error("merge.failed", run_id=shared.run_id, run_name=shared.name, error=str(exc))
        return ExitCode.FAILED


def _missing(shared: SharedRun, done: Mapping[int, str]) -> list[int]:
    """The shards (counted from 1, as their labels say) that wrote no part."""
    return [index + 1 for index in range(shared.shard_count) if index not in done]


def _merged(context: RunContext, shared: SharedRun) -> bool:
    folder = context.bucket.run_folder(shared.started_at, shared.run_id)
    return context.bucket.exists(context.bucket.merge_claim_key(folder))


def _listed(context: RunContext, listing: Callable[[], list[_Listed]]) -> list[_Listed]:
    try:
        return listing()
    except UnreadableObject as exc:
        raise ConfigReportError(
            f"cannot list the sharded runs ({exc.uri}: {exc.reason}); the hub role needs s3:ListBucket "
            f"on {context.bucket.uri(context.bucket.prefix)}"
        ) from exc


def _joined(context: RunContext, shared: SharedRun) -> RunContext:
    return replace(context, run_id=shared.run_id, started_at=shared.started_at)


def _run_folder(context: RunContext) -> str:
    return context.bucket.run_folder(context.started_at, context.run_id)


def _claim(context: RunContext, key: str, body: bytes) -> bool:
    try:
        return context.bucket.claim(key, body)
    except PublishError as exc:
        raise PublishError(f"cannot write {context.bucket.uri(key)} ({exc.reason})") from exc


def _merge(
    context: RunContext, shared: SharedRun, accounts: Sequence[Account], done: Mapping[int, str]
) -> RunOutcome:
    # The previous run's snapshot is read beside the parts: neither needs the other.
    with Meanwhile(lambda: previous_run(context), name="baseline") as earlier:
        parts = {index: _read_part(context, key) for index, key in sorted(done.items())}
        run = run_info(context, took=datetime.now(UTC) - shared.started_at)
        count = shared.shard_count
        report = merged_report(run, accounts, parts, count=count, regions=context.scan.regions)
        # Accepted exceptions apply to the whole report, as in an unsharded run.
        report = judged(context, report)
        get_logger().info("merge.done", run_id=shared.run_id, shards=len(parts), accounts=len(report.scans))
        return deliver(context, report, earlier=earlier.result())


def publish_part(context: RunContext, shard: Shard, report: Report) -> PublishedRun:
    """Write `shard`'s finished `report` as its part of the run and upload it; an earlier attempt's
    part stands."""
    folder = _run_folder(context)
    key = context.bucket.part_key(folder, index=shard.index, count=shard.count)
    staging = Path(tempfile.mkdtemp(prefix=f"config-report-{context.run_id}-"))
    try:
        part_file = write_snapshot(report, staging / PurePosixPath(key).name)
        files = describe_files([part_file], context.bucket.parts_folder(folder))
        part = PublishedRun(
            bucket=context.bucket.name, region=context.hub.region, run_prefix=folder, files=files
        )
        try:
            context.publisher.upload(part)
        except PublishError:
            if not context.bucket.exists(key):
                raise
            # An earlier attempt of this shard wrote its part, then failed later: that part stands.
            get_logger().warning("shard.part_exists", shard=shard.label, key=key)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return part


def _read_part(context: RunContext, key: str) -> Report:
    try:
        return read_stored_snapshot(context.bucket, key, context.spool)
    except (UnreadableObject, ValueError) as exc:
        raise ConfigReportError(f"cannot read the shard part {context.bucket.uri(key)}: {exc}") from exc


def _shard(settings: Settings) -> Shard:
    if settings.shard_index is None:
        raise SettingsError(
            "CONFIG_REPORT_SHARD_COUNT is above 1 but this pod has no shard index; set "
            "CONFIG_REPORT_SHARD_INDEX (0 to count-1), or run it as an Indexed Job (JOB_COMPLETION_INDEX)"
        )
    _run_name(settings)
    return Shard(settings.shard_index, settings.shard_count)


def _run_name(settings: Settings) -> str:
    if not settings.run_name:
        raise SettingsError(
            "CONFIG_REPORT_RUN_NAME is not set; every shard of one run needs the same name "
            "(the chart sets the Job's name)"
        )
    _bucket_name(settings)
    return settings.run_name


def _bucket_name(settings: Settings) -> str:
    if not settings.s3_bucket:
        raise SettingsError("CONFIG_REPORT_S3_BUCKET (--s3-bucket) is not set; sharded runs meet in S3")
    return settings.s3_bucket
