"""Earlier runs: finding the previous run's snapshot (the baseline) and reading snapshots back.

The baseline is the most recent snapshot under the report prefix from a run that started before this
one (run IDs sort by start time), or the snapshot named by `CONFIG_REPORT_BASELINE` (a local path or an
`s3://` URI, for backfills). Nothing here raises for a missing, unreadable or corrupt baseline: the
report then says why there is none and is published all the same, with the same exit code.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from config_report.domain.model import Baseline, Report
from config_report.domain.shelved import Shelf
from config_report.logs import get_logger
from config_report.store.bucket import ReportBucket, SnapshotObject, UnreadableObject
from config_report.store.snapshot import read_snapshot_stream


class UnreadableSnapshot(Exception):
    """A snapshot that could not be fetched or parsed; the message says why, in a user's words."""


def list_snapshots(bucket: ReportBucket) -> list[SnapshotObject]:
    """Every run's snapshot under the prefix, oldest first; raises `UnreadableSnapshot` if S3 refuses."""
    try:
        return bucket.snapshots()
    except UnreadableObject as exc:
        raise UnreadableSnapshot(
            f"cannot list {exc.uri} ({exc.reason}); the hub role needs s3:ListBucket on the report prefix"
        ) from exc


def read_snapshot_object(
    bucket: ReportBucket, snapshot: SnapshotObject, shelf: Shelf | None = None
) -> Report:
    """The report stored in one snapshot object, its findings put on `shelf`; raises
    `UnreadableSnapshot` saying why it cannot be read."""
    try:
        return read_stored_snapshot(bucket, snapshot.key, shelf)
    except UnreadableObject as exc:
        raise UnreadableSnapshot(_unreadable(exc)) from exc
    except ValueError as exc:
        raise UnreadableSnapshot(f"{snapshot.uri} is not a usable snapshot: {exc}") from exc


def read_stored_snapshot(bucket: ReportBucket, where: str, shelf: Shelf | None = None) -> Report:
    """The snapshot at `where` (a key of the bucket or an `s3://` URI), downloaded to an unnamed
    temporary file and read from there a line at a time, its findings put on `shelf`.

    Raises `UnreadableObject` when S3 refuses, `ValueError` when it is not a v1 snapshot.
    """
    with tempfile.TemporaryFile(prefix="config-report-snapshot-") as local:
        bucket.download(where, local)
        local.seek(0)
        return read_snapshot_stream(local, shelf)


def _unreadable(exc: UnreadableObject) -> str:
    return (
        f"cannot read {exc.uri} ({exc.reason}); the hub role needs s3:GetObject on the report "
        "prefix (and kms:Decrypt on the report key)"
    )


def find_baseline(
    bucket: ReportBucket, *, explicit: str | None, run_id: str, shelf: Shelf | None = None
) -> tuple[Report | None, Baseline]:
    """The previous run's report (its findings on `shelf`) and its description, or None and why there
    is none."""
    try:
        if explicit is not None:
            chosen = _read_explicit(bucket, explicit, shelf)
            return chosen, describe_baseline(chosen, explicit)
        if not bucket.configured:
            return None, Baseline(problem="no report bucket to look for earlier runs in")
        earlier = [s for s in list_snapshots(bucket) if s.run_id < run_id]
        if not earlier:
            where = bucket.uri(bucket.prefix)
            return None, Baseline(source=where, problem=f"first run: no earlier report under {where}")
        latest = earlier[-1]
        previous = read_snapshot_object(bucket, latest, shelf)
        return previous, describe_baseline(previous, latest.uri)
    except UnreadableSnapshot as exc:
        return None, Baseline(source=explicit or "", problem=str(exc))


def describe_baseline(report: Report, source: str) -> Baseline:
    """The description of an earlier run's report (as read from its snapshot) found at `source`."""
    return Baseline(
        source=source, run_id=report.run.run_id, started_at=report.run.started_at, figures=report.figures
    )


def _read_explicit(bucket: ReportBucket, where: str, shelf: Shelf | None) -> Report:
    try:
        if where.startswith("s3://"):
            return read_stored_snapshot(bucket, where, shelf)
        with Path(where).open("rb") as local:
            return read_snapshot_stream(local, shelf)
    except UnreadableObject as exc:
        raise UnreadableSnapshot(_unreadable(exc)) from exc
    except OSError as exc:
        raise UnreadableSnapshot(f"cannot read {where} ({exc.strerror})") from exc
    except ValueError as exc:
        raise UnreadableSnapshot(f"{where} is not a usable snapshot: {exc}") from exc


def recent_reports(
    bucket: ReportBucket, *, since_run_id: str, shelf: Shelf | None = None
) -> Iterator[Report]:
    """The readable snapshots from `since_run_id` on, oldest first; unreadable ones are skipped (logged)."""
    try:
        snapshots = list_snapshots(bucket)
    except UnreadableSnapshot as exc:
        get_logger().warning("snapshots.unlisted", reason=str(exc))
        return
    for snapshot in snapshots:
        if snapshot.run_id >= since_run_id:
            try:
                yield read_snapshot_object(bucket, snapshot, shelf)
            except UnreadableSnapshot as exc:
                get_logger().warning("snapshot.skipped", reason=str(exc))
