"""Publishing a run: its files under the dated run folder, never overwriting, then the latest pointer.

A run's files are named `aws-config-report-<run-id>` `.xlsx`, `.snapshot.json.gz` and `.manifest.json`
and uploaded in that order, so a manifest means the run is complete. Before scanning, a run proves the
bucket takes its writes with a small marker under `preflight/`; after its manifest, `latest.json`
points at it. A dry run publishes through `DryRunPublisher`, which writes nothing and says what it would have
uploaded; the history line is written by the publisher too, so a dry run adds none.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from config_report import __version__
from config_report.domain.model import HistoryEntry, Report
from config_report.errors import PublishError
from config_report.logs import get_logger
from config_report.store.bucket import ReportBucket, WriteFailed, content_type
from config_report.store.history import HistoryStore, LoadedHistory

MANIFEST_SCHEMA = "config-report/manifest/v1"
LATEST_SCHEMA = "config-report/latest/v1"


def new_run_id(started_at: datetime) -> str:
    """A run ID that sorts by time and is unique even for two runs in the same second."""
    return f"{started_at:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class FileNames:
    """A run's file names: unique per run, so downloads and local copies never collide."""

    workbook: str
    snapshot: str
    manifest: str


def report_file_names(run_id: str) -> FileNames:
    """Names of the workbook, snapshot and manifest of run `run_id`."""
    stem = ReportBucket.file_stem(run_id)
    return FileNames(f"{stem}.xlsx", f"{stem}.snapshot.json.gz", f"{stem}.manifest.json")


@dataclass(frozen=True, slots=True)
class PublishedFile:
    """One file of a run: where it is locally and in S3, and its checksum."""

    name: str
    local_path: Path
    key: str
    size: int
    sha256: str

    def uri(self, bucket: str) -> str:
        """The `s3://` URI of the file in `bucket`."""
        return f"s3://{bucket}/{self.key}"


@dataclass(frozen=True, slots=True)
class PublishedRun:
    """Where a run's files went: what logs, the manifest and the Jira ticket point at."""

    bucket: str
    region: str
    run_prefix: str
    files: tuple[PublishedFile, ...]

    @property
    def workbook(self) -> PublishedFile:
        """The workbook (.xlsx)."""
        return next(f for f in self.files if f.name.endswith(".xlsx"))

    def uris(self) -> dict[str, str]:
        """File name → `s3://` URI."""
        return {f.name: f.uri(self.bucket) for f in self.files}

    def console_url(self, file: PublishedFile) -> str:
        """A link to the object in the S3 console."""
        return (
            f"https://{self.region}.console.aws.amazon.com/s3/object/{self.bucket}"
            f"?region={self.region}&prefix={quote(file.key, safe='')}"
        )


def describe_files(paths: Sequence[Path], prefix: str) -> tuple[PublishedFile, ...]:
    """Checksums and keys for files about to be published under `prefix`."""
    return tuple(
        PublishedFile(
            name=path.name,
            local_path=path,
            key=prefix + path.name,
            size=path.stat().st_size,
            sha256=_sha256(path),
        )
        for path in paths
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(report: Report, files: Sequence[PublishedFile], path: Path, *, bucket: str | None) -> Path:
    """The run manifest: when, who, what was scanned, what failed, and checksums of the other files."""
    figures = report.figures
    gaps = [
        {"account_id": c.account_id, "region": c.region, "status": c.status.value, "detail": c.detail}
        for c in report.coverage()
        if c.status.is_gap
    ]
    manifest: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        "tool": {"name": "config-report", "version": __version__},
        "run_id": report.run.run_id,
        "started_at": report.run.started_at.isoformat(),
        "finished_at": report.run.finished_at.isoformat(),
        "identity": report.run.identity,
        "settings": report.run.settings,
        "scope": {
            "accounts": [s.account.id for s in report.scans],
            "regions": list(report.run.regions) or "enabled regions of each account",
        },
        "figures": {
            "accounts": figures.accounts,
            "accounts_fully_scanned": figures.accounts_fully_scanned,
            "regions_scanned": figures.regions_scanned,
            "regions_without_config": figures.regions_without_config,
            "coverage_gaps": figures.coverage_gaps,
            "rules_compliant": figures.rules_compliant,
            "rules_noncompliant": figures.rules_noncompliant,
            "noncompliant_resources": figures.noncompliant_resources,
            "failing_evaluations": figures.failing_evaluations,
            "critical_high_resources": figures.critical_high_resources,
        },
        "failures": gaps,
        "files": [
            {
                "name": f.name,
                "key": f.key,
                "uri": f.uri(bucket) if bucket else None,
                "size": f.size,
                "sha256": f.sha256,
            }
            for f in files
        ],
    }
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False), encoding="utf-8")
    return path


def keep_local_copy(files: Sequence[PublishedFile], output_dir: Path) -> tuple[PublishedFile, ...]:
    """Copy the run's files into `output_dir`; an existing file is an error, never overwritten."""
    copies = []
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for file in files:
            target = output_dir / file.name
            with file.local_path.open("rb") as source, target.open("xb") as copy:
                shutil.copyfileobj(source, copy)
            copies.append(replace(file, local_path=target))
    except OSError as exc:
        raise PublishError(
            f"cannot write the local copy to {output_dir} ({exc.strerror}); check CONFIG_REPORT_OUTPUT_DIR"
        ) from exc
    return tuple(copies)


class Publisher:
    """Writes a run to the report bucket: the preflight marker, the run's files, the latest pointer."""

    def __init__(self, bucket: ReportBucket) -> None:
        self.bucket = bucket

    def preflight(self, *, run_id: str, caller: str, patient: bool = True) -> str | None:
        """Prove the bucket takes this run's writes (and its KMS key) before anything is scanned.

        Returns the marker's key (None: nothing written); raises `PublishError` naming what to fix.
        The marker is tiny and kept (the hub role has no delete permission), so the bucket's
        lifecycle rule should expire `preflight/`. `patient` retries outages for
        CONFIG_REPORT_UPLOAD_RETRY_SECONDS, never a refusal (a typo or a denied write or key fails
        at once); else one attempt (`check`).
        """
        key = self.bucket.preflight_key(run_id)
        body = f"config-report preflight by {caller}\n".encode()
        retry = self.bucket.upload_retry if patient else None
        try:
            self.bucket.create(key, body, content_type="text/plain", retry=retry, refusals=False)
        except WriteFailed as exc:
            raise PublishError(
                f"cannot write to {self.bucket.uri(key)}{_after(exc.attempts)} ({exc.reason})", fix=exc.fix
            ) from exc
        return key

    def upload(self, run: PublishedRun) -> None:
        """Upload each file, create-only, retrying refusals for CONFIG_REPORT_UPLOAD_RETRY_SECONDS."""
        for file in run.files:
            try:
                self.bucket.create(
                    file.key,
                    file.local_path,
                    content_type=content_type(file.local_path),
                    retry=self.bucket.upload_retry,
                )
            except WriteFailed as exc:
                raise PublishError(
                    f"cannot upload {self.bucket.uri(file.key)}{_after(exc.attempts)} ({exc.reason})",
                    fix=exc.fix,
                ) from exc

    def point_latest(self, run: PublishedRun, report: Report) -> str | None:
        """Point `PREFIX/latest.json` at this run's files; written after them, so it never points at a gap.

        Returns the pointer's key (None: nothing written)."""
        pointer = {
            "schema": LATEST_SCHEMA,
            "run_id": report.run.run_id,
            "started_at": report.run.started_at.isoformat(),
            "finished_at": report.run.finished_at.isoformat(),
            "run_prefix": run.run_prefix,
            "coverage_complete": report.figures.complete,
            "files": {_kind(f.name): f.uri(run.bucket) for f in run.files},
            "keys": {_kind(f.name): f.key for f in run.files},
        }
        key = self.bucket.latest_key
        try:
            self.bucket.put(key, json.dumps(pointer, indent=2).encode(), content_type="application/json")
        except WriteFailed as exc:
            raise PublishError(
                f"the report is published under {self.bucket.uri(run.run_prefix)} but {key} could not be "
                f"updated ({exc.reason})",
                fix=exc.fix,
            ) from exc
        return key

    def save_history(self, history: HistoryStore, loaded: LoadedHistory, entry: HistoryEntry) -> None:
        """Add this run's line to the history (a line that cannot be written is logged, not fatal)."""
        if history.save(loaded, entry):
            get_logger().info("history.saved", history=history.uri)

    @property
    def writes(self) -> bool:
        """False for a dry run, which writes nothing and keeps its files for the reader."""
        return True


class DryRunPublisher(Publisher):
    """A dry run's publisher: reads nothing new, writes nothing, and logs what it would have uploaded."""

    def preflight(self, *, run_id: str, caller: str, patient: bool = True) -> str | None:
        """Nothing is written, so nothing needs proving."""
        return None

    def upload(self, run: PublishedRun) -> None:
        """Say which keys would be uploaded."""
        get_logger().info("dry_run.would_upload", keys=[f"s3://{run.bucket}/{f.key}" for f in run.files])

    def point_latest(self, run: PublishedRun, report: Report) -> str | None:
        """The pointer stays where it is."""
        return None

    def save_history(self, history: HistoryStore, loaded: LoadedHistory, entry: HistoryEntry) -> None:
        """Only a published run joins the history."""

    @property
    def writes(self) -> bool:
        """A dry run writes nothing."""
        return False


def _kind(name: str) -> str:
    # aws-config-report-<run-id>.xlsx -> workbook, .snapshot.json.gz -> snapshot, .manifest.json -> manifest
    if name.endswith(".xlsx"):
        return "workbook"
    return name.split(".")[1] if name.count(".") >= 2 else name


def _after(attempts: int) -> str:
    return f" after {attempts} attempts" if attempts > 1 else ""
