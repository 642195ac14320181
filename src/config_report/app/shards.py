"""Sharding: one run split over the pods of a Kubernetes Indexed Job, then merged into one report.

Each pod is shard `CONFIG_REPORT_SHARD_INDEX` (or Kubernetes' `JOB_COMPLETION_INDEX`) of
`CONFIG_REPORT_SHARD_COUNT` and scans its own accounts (`domain.shards`). The pods share one run
through `CONFIG_REPORT_RUN_NAME` (the chart passes the Job's name): the first to start claims the run's
ID and start time (`PREFIX shards/<run-name>.json`), each writes its partial snapshot under the run
folder's `parts/`, and the last to finish claims the merge (`parts/merge.claim`) and publishes the
single workbook, snapshot, manifest and Jira update, through the same stages as an unsharded run.

Claims are create-only writes: exactly one writer wins, the others read what it wrote.
`config-report merge` does the same for a run whose shard never reported (killed, out of retries): the
missing shard's accounts become coverage gaps naming it, and the exit code is 3.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from config_report.app.context import RunContext, open_run
from config_report.app.run import RunOutcome, deliver, discover, judged, run_info, scan_report
from config_report.domain.figures import finished
from config_report.domain.model import Account, Report
from config_report.domain.shards import Shard, merged_report
from config_report.errors import ConfigReportError, ExitCode, PublishError, SettingsError
from config_report.logs import get_logger
from config_report.settings import Settings
from config_report.store.bucket import UnreadableObject
from config_report.store.publish import PublishedRun, describe_files, new_run_id
from config_report.store.snapshot import read_snapshot_bytes, write_snapshot


@dataclass(frozen=True, slots=True)
class SharedRun:
    """The run every shard belongs to: one ID and start time, claimed by the first shard."""

    name: str
    run_id: str
    started_at: datetime


def run_shard(settings: Settings, *, as_json: bool, stop: threading.Event | None = None) -> RunOutcome:
    """Scan this pod's shard, publish its part, and merge the whole run if it is the last to finish.

    Once `stop` is set (SIGTERM) the shard scans no more; its part holds the rest as `INTERRUPTED`.
    """
    shard = _shard(settings)
    log = get_logger()
    context = open_run(settings, as_json=as_json, stop=stop)
    shared = claim_run(context, datetime.now(UTC))
    context = _joined(context, shared)
    log.info("shard.start", shard=shard.label, run_id=shared.run_id, run_name=shared.name)
    accounts = discover(context)
    own = [a for a in accounts if shard.owns(a)]
    report = finished(scan_report(context, accounts=own))
    part = _publish_part(context, shard, report)
    done = finished_shards(context)
    log.info("shard.done", shard=shard.label, accounts=len(own), shards_finished=len(done))
    if len(done) < shard.count or not claim_merge(context, shard.label):
        return RunOutcome(report=report, published=part, exit_code=ExitCode.OK)
    return _merge(context, shared, accounts, done)


def merge_run(settings: Settings, *, as_json: bool) -> RunOutcome:
    """Merge the parts a sharded run has, as they are: shards that never reported become gaps."""
    count = settings.shard_count
    _run_name(settings)
    context = open_run(settings, as_json=as_json)
    shared = existing_run(context)
    context = _joined(context, shared)
    done = finished_shards(context)
    missing = sorted(set(range(count)) - set(done))
    get_logger().info("merge.start", run_id=shared.run_id, missing_shards=[i + 1 for i in missing])
    if not claim_merge(context, "config-report merge"):
        raise ConfigReportError(f"run {shared.run_id} ({shared.name}) was merged already")
    return _merge(context, shared, discover(context), done)


def claim_run(context: RunContext, now: datetime) -> SharedRun:
    """The run's identity: claimed by this shard if it is the first, else read from the first one's claim."""
    name = _run_name(context.settings)
    proposal = SharedRun(name=name, run_id=new_run_id(now), started_at=now)
    body = json.dumps({"run_id": proposal.run_id, "started_at": now.isoformat()}).encode()
    if _claim(context, context.bucket.shard_run_key(name), body):
        return proposal
    return existing_run(context)


def existing_run(context: RunContext) -> SharedRun:
    """The identity a shard already claimed for `CONFIG_REPORT_RUN_NAME`."""
    name = _run_name(context.settings)
    key = context.bucket.shard_run_key(name)
    try:
        claim = json.loads(context.bucket.fetch(key))
    except UnreadableObject as exc:
        raise ConfigReportError(
            f"no sharded run named {name!r} ({exc.uri}: {exc.reason}); check CONFIG_REPORT_RUN_NAME"
        ) from exc
    return SharedRun(
        name=name, run_id=claim["run_id"], started_at=datetime.fromisoformat(claim["started_at"])
    )


def finished_shards(context: RunContext) -> dict[int, str]:
    """Shard index (from 0) → key of its part, for the parts written so far."""
    return context.bucket.parts(_run_folder(context), count=context.settings.shard_count)


def claim_merge(context: RunContext, who: str) -> bool:
    """True for exactly one caller per run: the create-only write of the merge claim succeeded."""
    body = json.dumps({"merged_by": who, "at": datetime.now(UTC).isoformat()}).encode()
    return _claim(context, context.bucket.merge_claim_key(_run_folder(context)), body)


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
    parts = {index: _read_part(context, key) for index, key in sorted(done.items())}
    run = run_info(context, took=datetime.now(UTC) - shared.started_at)
    count = context.settings.shard_count
    report = merged_report(run, accounts, parts, count=count, regions=context.scan.regions)
    # Accepted exceptions apply to the whole report, as in an unsharded run.
    report = judged(context, report)
    get_logger().info("merge.done", run_id=shared.run_id, shards=len(parts), accounts=len(report.scans))
    return deliver(context, report)


def _publish_part(context: RunContext, shard: Shard, report: Report) -> PublishedRun:
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
        return read_snapshot_bytes(context.bucket.fetch(key))
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
    if not settings.s3_bucket:
        raise SettingsError("CONFIG_REPORT_S3_BUCKET (--s3-bucket) is not set; sharded runs meet in S3")
    return settings.run_name
