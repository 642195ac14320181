"""Earlier runs: finding the previous run's snapshot (the baseline) and reading snapshots back.

The baseline is the most recent snapshot under the report prefix from a run that started before this
one (run IDs sort by start time), or the snapshot named by `CONFIG_REPORT_BASELINE` (a local path or an
`s3://` URI, for backfills). Nothing here raises for a missing, unreadable or corrupt baseline: the
report then says why there is none and is published all the same, with the same exit code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config_report.aws.session import describe_error
from config_report.domain.model import Baseline, Report
from config_report.logs import get_logger
from config_report.store.snapshot import read_snapshot_bytes

# <prefix>YYYY/MM/DD/<run-id>/aws-config-report-<run-id>.snapshot.json.gz (see publish.py).
_SNAPSHOT_KEY = re.compile(
    r"\d{4}/\d{2}/\d{2}/(?P<run_id>\d{8}T\d{6}Z-[0-9a-f]+)/aws-config-report-(?P=run_id)\.snapshot\.json\.gz"
)
_S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")


class UnreadableSnapshot(Exception):
    """A snapshot that could not be fetched or parsed; the message says why, in a user's words."""


@dataclass(frozen=True, slots=True)
class SnapshotObject:
    """One run's snapshot in the report bucket."""

    bucket: str
    key: str
    run_id: str

    @property
    def uri(self) -> str:
        """Its `s3://` URI."""
        return f"s3://{self.bucket}/{self.key}"


def list_snapshots(s3: Any, bucket: str, prefix: str) -> list[SnapshotObject]:
    """Every run's snapshot under `prefix`, oldest first; raises `UnreadableSnapshot` if S3 refuses."""
    found = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                match = _SNAPSHOT_KEY.fullmatch(item["Key"][len(prefix) :])
                if match:
                    found.append(SnapshotObject(bucket, item["Key"], match["run_id"]))
    except (ClientError, BotoCoreError) as exc:
        raise UnreadableSnapshot(
            f"cannot list s3://{bucket}/{prefix} ({describe_error(exc)}); the hub role needs "
            "s3:ListBucket on the report prefix"
        ) from exc
    return sorted(found, key=lambda s: s.run_id)


def read_s3_snapshot(s3: Any, bucket: str, key: str) -> Report:
    """The report stored in one snapshot object; raises `UnreadableSnapshot` saying why it cannot be."""
    uri = f"s3://{bucket}/{key}"
    try:
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise UnreadableSnapshot(
            f"cannot read {uri} ({describe_error(exc)}); the hub role needs s3:GetObject on the report "
            "prefix (and kms:Decrypt on the report key)"
        ) from exc
    return _parse(data, uri)


def _parse(data: bytes, where: str) -> Report:
    try:
        return read_snapshot_bytes(data)
    except ValueError as exc:
        raise UnreadableSnapshot(f"{where} is not a usable snapshot: {exc}") from exc


def find_baseline(
    s3: Any, *, bucket: str | None, prefix: str, explicit: str | None, run_id: str
) -> tuple[Report | None, Baseline]:
    """The previous run's report and its description, or None and why there is none."""
    try:
        if explicit is not None:
            chosen = _read_explicit(s3, explicit)
            return chosen, describe_baseline(chosen, explicit)
        if bucket is None:
            return None, Baseline(problem="no report bucket to look for earlier runs in")
        earlier = [s for s in list_snapshots(s3, bucket, prefix) if s.run_id < run_id]
        if not earlier:
            where = f"s3://{bucket}/{prefix}"
            return None, Baseline(source=where, problem=f"first run: no earlier report under {where}")
        latest = earlier[-1]
        previous = read_s3_snapshot(s3, bucket, latest.key)
        return previous, describe_baseline(previous, latest.uri)
    except UnreadableSnapshot as exc:
        return None, Baseline(source=explicit or "", problem=str(exc))


def describe_baseline(report: Report, source: str) -> Baseline:
    """The description of an earlier run's report read from `source`, as a baseline."""
    return Baseline(
        source=source, run_id=report.run.run_id, started_at=report.run.started_at, figures=report.figures()
    )


def _read_explicit(s3: Any, where: str) -> Report:
    match = _S3_URI.match(where)
    if match:
        return read_s3_snapshot(s3, match["bucket"], match["key"])
    try:
        data = Path(where).read_bytes()
    except OSError as exc:
        raise UnreadableSnapshot(f"cannot read {where} ({exc.strerror})") from exc
    return _parse(data, where)


def recent_reports(s3: Any, bucket: str, prefix: str, *, since_run_id: str) -> Iterator[Report]:
    """The readable snapshots from `since_run_id` on, oldest first; unreadable ones are skipped (logged)."""
    try:
        snapshots = list_snapshots(s3, bucket, prefix)
    except UnreadableSnapshot as exc:
        get_logger().warning("snapshots.unlisted", reason=str(exc))
        return
    for snapshot in snapshots:
        if snapshot.run_id >= since_run_id:
            try:
                yield read_s3_snapshot(s3, bucket, snapshot.key)
            except UnreadableSnapshot as exc:
                get_logger().warning("snapshot.skipped", reason=str(exc))
