"""Publishing: the run's files under a dated S3 key, never overwriting, plus an optional local copy.

Layout: `s3://BUCKET/PREFIX/YYYY/MM/DD/<run-id>/` holding `aws-config-report-<run-id>` `.xlsx`,
`.snapshot.json.gz` and `.manifest.json`, uploaded in that order so a manifest means the run is complete.
Every upload is conditional (`If-None-Match: *`): an existing key is an error, never an overwrite.

Beside the dated folders: `PREFIX/preflight/<run-id>.txt`, the marker a run (or `check`) writes before
scanning to prove the bucket takes its writes, and `PREFIX/latest.json`, a small pointer to the newest
published run, written after its manifest (the one key that is replaced on purpose).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from config_report import __version__
from config_report.aws.session import NETWORK_HINT, describe_error, is_network_error
from config_report.domain.model import Report
from config_report.errors import PublishError
from config_report.logs import get_logger

MANIFEST_SCHEMA = "config-report/manifest/v1"
LATEST_SCHEMA = "config-report/latest/v1"

_CONTENT_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".gz": "application/gzip",
    ".json": "application/json",
}


def new_run_id(started_at: datetime) -> str:
    """A run ID that sorts by time and is unique even for two runs in the same second."""
    return f"{started_at:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_prefix(prefix: str, started_at: datetime, run_id: str) -> str:
    """The dated S3 key prefix of one run."""
    return f"{prefix}{started_at:%Y/%m/%d}/{run_id}/"


@dataclass(frozen=True, slots=True)
class FileNames:
    """A run's file names: unique per run, so downloads and local copies never collide."""

    workbook: str
    snapshot: str
    manifest: str


def report_file_names(run_id: str) -> FileNames:
    """Names of the workbook, snapshot and manifest of run `run_id`."""
    stem = f"aws-config-report-{run_id}"
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
    figures = report.figures()
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


def encryption(kms_key_id: str | None) -> dict[str, str]:
    """The put_object arguments: SSE-KMS with `kms_key_id`, else SSE-S3 (AES256).

    The header is always sent, so a bucket policy that refuses unencrypted uploads (a common guard
    that checks `s3:x-amz-server-side-encryption`) accepts ours.
    """
    if kms_key_id:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    return {"ServerSideEncryption": "AES256"}


def s3_write_fix(exc: BaseException, *, bucket: str, kms_key_id: str | None) -> str:
    """What to fix when S3 refused a write: a missing bucket, a denied write and a denied key differ."""
    if is_network_error(exc):
        return f"network error, not a permission: {NETWORK_HINT}"
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
    message = str(exc)
    if code == "NoSuchBucket":
        return (
            f"bucket {bucket} does not exist: correct CONFIG_REPORT_S3_BUCKET (a typo?) or create the bucket "
            "(docs/deploy.md, 'The report bucket')"
        )
    if code.startswith("KMS.") or "kms:" in message:
        return (
            f"the hub role may not use the KMS key {kms_key_id or '(bucket default)'}: allow it "
            "kms:GenerateDataKey and kms:Decrypt in the hub role's policy (kms_key_arn) and in the key "
            "policy, or correct CONFIG_REPORT_S3_KMS_KEY_ID"
        )
    if code in ("AccessDenied", "AllAccessDisabled") or "403" in code:
        return (
            f"grant the hub role s3:PutObject on arn:aws:s3:::{bucket}/<prefix>* (Terraform hub example: "
            "report_bucket, report_prefix); a bucket in another account also needs a bucket policy "
            "allowing the hub role"
        )
    return "check CONFIG_REPORT_S3_BUCKET and the network path to S3"


def preflight_key(prefix: str, run_id: str) -> str:
    """Key of a run's preflight marker: beside the dated folders, never mistaken for a report."""
    return f"{prefix}preflight/{run_id}.txt"


def write_preflight_marker(
    s3: Any,
    bucket: str,
    prefix: str,
    *,
    run_id: str,
    caller: str,
    kms_key_id: str | None,
    retry: Retry | None = None,
) -> str:
    """Prove the bucket takes this run's writes (and its KMS key) before anything is scanned.

    Returns the marker's key; raises `PublishError` naming what to fix. The marker is tiny and kept
    (the hub role has no delete permission), so the bucket's lifecycle rule should expire `preflight/`.
    A refused write is tried again as `retry` says (default: once, as `check` wants).
    """
    key = preflight_key(prefix, run_id)

    def put() -> None:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=f"config-report preflight by {caller}\n".encode(),
            IfNoneMatch="*",
            **encryption(kms_key_id),
        )

    error, attempts = (retry or Retry()).call(put, key=key)
    if error is not None:
        raise PublishError(
            f"cannot write to s3://{bucket}/{key}{_after(attempts)} ({describe_error(error)})",
            fix=s3_write_fix(error, bucket=bucket, kms_key_id=kms_key_id),
        ) from error
    return key


def latest_key(prefix: str) -> str:
    """Key of the pointer to the newest published run."""
    return f"{prefix}latest.json"


def write_latest_pointer(
    s3: Any, run: PublishedRun, report: Report, *, prefix: str, kms_key_id: str | None
) -> str:
    """Point `PREFIX/latest.json` at this run's files; written after them, so it never points at a gap."""
    figures = report.figures()
    pointer = {
        "schema": LATEST_SCHEMA,
        "run_id": report.run.run_id,
        "started_at": report.run.started_at.isoformat(),
        "finished_at": report.run.finished_at.isoformat(),
        "run_prefix": run.run_prefix,
        "coverage_complete": figures.complete,
        "files": {_kind(f.name): f.uri(run.bucket) for f in run.files},
        "keys": {_kind(f.name): f.key for f in run.files},
    }
    key = latest_key(prefix)
    try:
        s3.put_object(
            Bucket=run.bucket,
            Key=key,
            Body=json.dumps(pointer, indent=2).encode(),
            ContentType="application/json",
            **encryption(kms_key_id),
        )
    except (ClientError, BotoCoreError) as exc:
        raise PublishError(
            f"the report is published under s3://{run.bucket}/{run.run_prefix} but {key} could not be "
            f"updated ({describe_error(exc)})",
            fix=s3_write_fix(exc, bucket=run.bucket, kms_key_id=kms_key_id),
        ) from exc
    return key


def _kind(name: str) -> str:
    # aws-config-report-<run-id>.xlsx -> workbook, .snapshot.json.gz -> snapshot, .manifest.json -> manifest
    if name.endswith(".xlsx"):
        return "workbook"
    return name.split(".")[1] if name.count(".") >= 2 else name


@dataclass(frozen=True, slots=True)
class Retry:
    """How long a refused S3 write is tried again: backoff 1, 2, 4 ... seconds (at most 30), on top of
    botocore's own retries, for up to `seconds` (an outage, or a bucket or key policy still propagating).

    `refusals=False` tries again only what may pass by itself (5xx, throttling, the network): the
    preflight marker must fail in seconds on a bucket typo or a denied write or key, and a report that
    is not yet scanned loses nothing by failing at once.
    """

    seconds: float = 0.0
    refusals: bool = True
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def call(self, put: Callable[[], None], *, key: str) -> tuple[BaseException | None, int]:
        """Call `put` until it succeeds or the time is spent: (the last error or None, attempts)."""
        deadline = self.clock() + self.seconds
        attempts = 0
        while True:
            attempts += 1
            try:
                put()
            except (ClientError, BotoCoreError) as exc:
                delay = min(2.0 ** (attempts - 1), _MAX_BACKOFF_SECONDS)
                if (
                    _is_overwrite(exc)
                    or (_is_refusal(exc) and not self.refusals)
                    or self.clock() + delay > deadline
                ):
                    return exc, attempts
                get_logger().warning(
                    "upload.retry", key=key, attempt=attempts, retry_in_s=delay, error=describe_error(exc)
                )
                self.sleep(delay)
            else:
                return None, attempts


_MAX_BACKOFF_SECONDS = 30.0


def _is_overwrite(exc: BaseException) -> bool:
    # The key exists: trying again can only fail the same way, and it must never be overwritten.
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "PreconditionFailed"


_PASSING_CODES = frozenset(
    {"RequestTimeout", "SlowDown", "Throttling", "ThrottlingException", "TooManyRequests"}
)
"""4xx answers that say "not now" rather than "no": waiting may help."""


def _is_refusal(exc: BaseException) -> bool:
    # A 4xx answer (AccessDenied, NoSuchBucket, a KMS key denied or missing) stands until someone fixes it.
    if not isinstance(exc, ClientError):
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return 400 <= status < 500 and exc.response.get("Error", {}).get("Code") not in _PASSING_CODES


def _after(attempts: int) -> str:
    return f" after {attempts} attempts" if attempts > 1 else ""


def upload(
    s3: Any,
    bucket: str,
    files: Sequence[PublishedFile],
    *,
    kms_key_id: str | None,
    retry: Retry | None = None,
) -> None:
    """Upload each file with a conditional put (SSE-KMS with `kms_key_id` when set), retried per `retry`."""
    for file in files:
        put = partial(_put, s3, bucket, file, kms_key_id)
        error, attempts = (retry or Retry()).call(put, key=file.key)
        if error is not None:
            raise PublishError(
                f"cannot upload s3://{bucket}/{file.key}{_after(attempts)} ({describe_error(error)})",
                fix=s3_write_fix(error, bucket=bucket, kms_key_id=kms_key_id),
            ) from error


def _put(s3: Any, bucket: str, file: PublishedFile, kms_key_id: str | None) -> None:
    content_type = _CONTENT_TYPES.get(file.local_path.suffix, "application/octet-stream")
    with file.local_path.open("rb") as body:
        s3.put_object(
            Bucket=bucket,
            Key=file.key,
            Body=body,
            IfNoneMatch="*",
            ChecksumAlgorithm="SHA256",
            ContentType=content_type,
            **encryption(kms_key_id),
        )


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
