"""Sharding: one run split over the pods of a Kubernetes Indexed Job, then merged into one report.

Each pod is shard `CONFIG_REPORT_SHARD_INDEX` (or Kubernetes' `JOB_COMPLETION_INDEX`) of
`CONFIG_REPORT_SHARD_COUNT` and scans the accounts whose ID modulo the count is its index: a stable
choice that needs no shared list and does not move an account when others join or leave.

The pods share one run through `CONFIG_REPORT_RUN_NAME` (the chart passes the Job's name):

    PREFIX shards/RUN_NAME.json                        the run's ID and start, claimed by the first pod
    RUN_PREFIX parts/shard-0002-of-0003.snapshot.json.gz    one partial snapshot per shard
    RUN_PREFIX parts/merge.claim                       the pod that merged

Claims are S3 conditional writes (`If-None-Match: *`): exactly one writer wins, the others read what it
wrote. The last shard to finish sees every part, claims the merge and publishes the single workbook,
snapshot, manifest and Jira update, as an unsharded run would. `config-report merge` does the same for
a run whose shard never reported (killed, out of retries): the missing shard's accounts become
coverage gaps naming it, and the exit code is 3.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config_report.app.run import (
    Hub,
    RunOutcome,
    account_filter,
    connect_hub,
    deliver,
    load_exceptions,
    organizations_client,
    scan_report,
)
from config_report.aws.organization import list_active_accounts
from config_report.aws.session import describe_error, hub_region
from config_report.domain.acceptance import apply_exceptions
from config_report.domain.model import (
    ALL_REGIONS,
    Account,
    AccountScan,
    Coverage,
    CoverageStatus,
    Report,
    RunInfo,
)
from config_report.errors import ConfigReportError, ExitCode, PublishError, SettingsError
from config_report.logs import get_logger
from config_report.settings import Settings
from config_report.store.bucket import (
    PublishedRun,
    describe_files,
    encryption,
    new_run_id,
    run_prefix,
    upload,
)
from config_report.store.snapshot import read_snapshot_bytes, write_snapshot

_PART = re.compile(r"shard-(\d{4})-of-(\d{4})\.snapshot\.json\.gz$")
_MERGE_CLAIM = "merge.claim"


@dataclass(frozen=True, slots=True)
class Shard:
    """One shard of a run: `index` (from 0, as Kubernetes counts) of `count`."""

    index: int
    count: int

    def owns(self, account: Account) -> bool:
        """True when this shard scans `account` (its ID modulo the shard count)."""
        return shard_of(account.id, self.count) == self.index

    @property
    def label(self) -> str:
        """`shard 2 of 3`, counting from 1 as people do."""
        return f"shard {self.index + 1} of {self.count}"

    @property
    def part_name(self) -> str:
        """The file name of this shard's partial snapshot."""
        return f"shard-{self.index + 1:04d}-of-{self.count:04d}.snapshot.json.gz"


def shard_of(account_id: str, count: int) -> int:
    """The shard (from 0) that scans `account_id` when a run has `count` shards."""
    return int(account_id) % count


@dataclass(frozen=True, slots=True)
class SharedRun:
    """The run every shard belongs to: one ID and start time, claimed by the first shard."""

    name: str
    run_id: str
    started_at: datetime

    def prefix(self, settings: Settings) -> str:
        """The run's dated S3 prefix, the same for every shard."""
        return run_prefix(settings.s3_prefix, self.started_at, self.run_id)

    def parts_prefix(self, settings: Settings) -> str:
        """Where the shards' partial snapshots go."""
        return self.prefix(settings) + "parts/"


def run_shard(settings: Settings, *, as_json: bool, stop: threading.Event | None = None) -> RunOutcome:
    """Scan this pod's shard, publish its part, and merge the whole run if it is the last to finish.

    Once `stop` is set (SIGTERM) the shard scans no more; its part holds the rest as `INTERRUPTED`.
    """
    shard = _shard(settings)
    log = get_logger()
    hub = connect_hub(settings)
    s3 = hub.session.client("s3", config=hub.config)
    shared = claim_run(s3, settings, datetime.now(UTC))
    log.info("shard.start", shard=shard.label, run_id=shared.run_id, run_name=shared.name)
    accounts = _discover(hub, settings)
    own = [a for a in accounts if shard.owns(a)]
    report = scan_report(
        hub,
        settings,
        run_id=shared.run_id,
        started=shared.started_at,
        as_json=as_json,
        stop=stop,
        accounts=own,
    )
    part = _publish_part(s3, settings, shared, shard, report)
    finished = finished_shards(s3, settings, shared)
    log.info("shard.done", shard=shard.label, accounts=len(own), shards_finished=len(finished))
    if len(finished) < shard.count or not claim_merge(s3, settings, shared, shard.label):
        return RunOutcome(report=report, published=part, exit_code=ExitCode.OK)
    return _merge(hub, s3, settings, shared, accounts, finished)


def merge_run(settings: Settings) -> RunOutcome:
    """Merge the parts a sharded run has, as they are: shards that never reported become gaps."""
    count = settings.shard_count
    hub = connect_hub(settings)
    s3 = hub.session.client("s3", config=hub.config)
    shared = existing_run(s3, settings)
    finished = finished_shards(s3, settings, shared)
    missing = sorted(set(range(count)) - set(finished))
    get_logger().info("merge.start", run_id=shared.run_id, missing_shards=[i + 1 for i in missing])
    if not claim_merge(s3, settings, shared, "config-report merge"):
        raise ConfigReportError(f"run {shared.run_id} ({shared.name}) was merged already")
    return _merge(hub, s3, settings, shared, _discover(hub, settings), finished)


def merged_report(
    run: RunInfo,
    accounts: Sequence[Account],
    parts: Mapping[int, Report],
    *,
    count: int,
    regions: Sequence[str],
) -> Report:
    """One report from the shards' parts, in discovery order; accounts no part covers become gaps."""
    scans: dict[str, AccountScan] = {s.account.id: s for part in parts.values() for s in part.scans}
    merged = []
    for account in accounts:
        scan = scans.get(account.id)
        if scan is None:
            shard = Shard(shard_of(account.id, count), count)
            detail = f"{shard.label} did not report (see that pod's log)"
            rows = tuple(
                Coverage(account.id, region, CoverageStatus.ERROR, detail)
                for region in (regions or (ALL_REGIONS,))
            )
            scan = AccountScan(account=account, coverage=rows)
        merged.append(scan)
    return Report(run=run, scans=tuple(merged))


def claim_run(s3: Any, settings: Settings, now: datetime) -> SharedRun:
    """The run's identity: claimed by this shard if it is the first, else read from the first one's claim."""
    name = _run_name(settings)
    proposal = SharedRun(name=name, run_id=new_run_id(now), started_at=now)
    body = json.dumps({"run_id": proposal.run_id, "started_at": now.isoformat()}).encode()
    if _put_once(s3, settings, _run_key(settings, name), body):
        return proposal
    return existing_run(s3, settings)


def existing_run(s3: Any, settings: Settings) -> SharedRun:
    """The identity a shard already claimed for `CONFIG_REPORT_RUN_NAME`."""
    name = _run_name(settings)
    key = _run_key(settings, name)
    try:
        claim = json.loads(s3.get_object(Bucket=settings.s3_bucket, Key=key)["Body"].read())
    except (ClientError, BotoCoreError) as exc:
        raise ConfigReportError(
            f"no sharded run named {name!r} (s3://{settings.s3_bucket}/{key}: {describe_error(exc)}); "
            "check CONFIG_REPORT_RUN_NAME"
        ) from exc
    return SharedRun(
        name=name, run_id=claim["run_id"], started_at=datetime.fromisoformat(claim["started_at"])
    )


def finished_shards(s3: Any, settings: Settings, shared: SharedRun) -> dict[int, str]:
    """Shard index (from 0) → key of its part, for the parts written so far."""
    found: dict[int, str] = {}
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=settings.s3_bucket, Prefix=shared.parts_prefix(settings)
    )
    for page in pages:
        for item in page.get("Contents", []):
            match = _PART.search(item["Key"])
            if match and int(match.group(2)) == settings.shard_count:
                found[int(match.group(1)) - 1] = item["Key"]
    return found


def claim_merge(s3: Any, settings: Settings, shared: SharedRun, who: str) -> bool:
    """True for exactly one caller per run: the conditional write of the merge claim succeeded."""
    body = json.dumps({"merged_by": who, "at": datetime.now(UTC).isoformat()}).encode()
    return _put_once(s3, settings, shared.parts_prefix(settings) + _MERGE_CLAIM, body)


def _merge(
    hub: Hub,
    s3: Any,
    settings: Settings,
    shared: SharedRun,
    accounts: Sequence[Account],
    finished: Mapping[int, str],
) -> RunOutcome:
    parts = {index: _read_part(s3, settings, key) for index, key in sorted(finished.items())}
    run = RunInfo(
        run_id=shared.run_id,
        started_at=shared.started_at,
        finished_at=datetime.now(UTC),
        identity=hub.identity.arn,
        regions=tuple(settings.regions),
        settings=settings.public_view(),
    )
    report = merged_report(run, accounts, parts, count=settings.shard_count, regions=settings.regions)
    if settings.exceptions_file:
        # Accepted exceptions apply to the whole report, as in an unsharded run.
        report = apply_exceptions(report, load_exceptions(settings, hub), today=shared.started_at.date())
    get_logger().info("merge.done", run_id=shared.run_id, shards=len(parts), accounts=len(report.scans))
    return deliver(report, settings, hub, dry_run=False)


def _publish_part(
    s3: Any, settings: Settings, shared: SharedRun, shard: Shard, report: Report
) -> PublishedRun:
    staging = Path(tempfile.mkdtemp(prefix=f"config-report-{shared.run_id}-"))
    try:
        files = describe_files(
            [write_snapshot(report, staging / shard.part_name)], shared.parts_prefix(settings)
        )
        try:
            upload(s3, settings.s3_bucket or "", files, kms_key_id=settings.s3_kms_key_id)
        except PublishError:
            if not _exists(s3, settings, files[0].key):
                raise
            # An earlier attempt of this shard wrote its part, then failed later: that part stands.
            get_logger().warning("shard.part_exists", shard=shard.label, key=files[0].key)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PublishedRun(
        bucket=settings.s3_bucket or "", region=hub_region(), run_prefix=shared.prefix(settings), files=files
    )


def _read_part(s3: Any, settings: Settings, key: str) -> Report:
    try:
        data = s3.get_object(Bucket=settings.s3_bucket, Key=key)["Body"].read()
        return read_snapshot_bytes(data)
    except (ClientError, BotoCoreError, ValueError) as exc:
        raise ConfigReportError(f"cannot read the shard part s3://{settings.s3_bucket}/{key}: {exc}") from exc


def _put_once(s3: Any, settings: Settings, key: str, body: bytes) -> bool:
    try:
        s3.put_object(
            Bucket=settings.s3_bucket,
            Key=key,
            Body=body,
            IfNoneMatch="*",
            ContentType="application/json",
            **encryption(settings.s3_kms_key_id),
        )
    except ClientError as exc:
        # 412: someone else's write came first. 409: a concurrent conditional write is in flight.
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (409, 412):
            return False
        raise PublishError(f"cannot write s3://{settings.s3_bucket}/{key} ({describe_error(exc)})") from exc
    return True


def _exists(s3: Any, settings: Settings, key: str) -> bool:
    try:
        s3.head_object(Bucket=settings.s3_bucket, Key=key)
    except ClientError:
        return False
    return True


def _discover(hub: Hub, settings: Settings) -> list[Account]:
    accounts = list_active_accounts(organizations_client(hub, settings), account_filter(settings))
    get_logger().info("discovery.done", accounts=len(accounts))
    return accounts


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


def _run_key(settings: Settings, name: str) -> str:
    return f"{settings.s3_prefix}shards/{name}.json"
