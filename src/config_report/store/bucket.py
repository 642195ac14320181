"""The report bucket: every key under the report prefix, every write and every read, in one place.

    PREFIX YYYY/MM/DD/<run-id>/aws-config-report-<run-id>.{xlsx,snapshot.json.gz,manifest.json}
    PREFIX YYYY/MM/DD/<run-id>/parts/shard-0002-of-0003.snapshot.json.gz   a sharded run's parts
    PREFIX YYYY/MM/DD/<run-id>/parts/merge.claim                           the pod that merged them
    PREFIX latest.json            the newest published run (the one key replaced on purpose)
    PREFIX preflight/<run-id>.txt the marker a run or `check` writes before scanning
    PREFIX history/runs.jsonl     one line per run: the trend
    PREFIX jira/<week>.json       the key of each week's ticket
    PREFIX shards/<run-name>.json the identity every shard of one run shares

Writes come in three kinds. `create` never overwrites (`If-None-Match: *`): a run's files, markers and
claims; `replace` writes over exactly the version that was read (`If-Match` its ETag), so two runs at
once cannot drop each other's history line; `put` overwrites (the latest pointer, a ticket record).
A conditional write that loses is `ObjectExists` or `ObjectChanged`; AWS answers a lost race with 412
or, while another conditional write to the key is in flight, 409: both mean the same here.

`S3Bucket` is the bucket itself (its S3 client is the only one config-report builds; every upload asks
for SSE-KMS with the configured key, else SSE-S3). `MemoryBucket` keeps objects in a dict for tests of
the stages above it; one contract test suite runs against both.
"""

from __future__ import annotations

import hashlib
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from config_report.aws.errors import (
    NETWORK_HINT,
    AwsError,
    describe_error,
    error_code,
    http_status,
    is_network_error,
)
from config_report.errors import ConfigReportError, PublishError
from config_report.logs import get_logger
from config_report.retry import Retry
from config_report.settings import BucketConfig

RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]+")
_FILE_STEM = "aws-config-report-"
_SNAPSHOT_KEY = re.compile(
    rf"\d{{4}}/\d{{2}}/\d{{2}}/(?P<run_id>{RUN_ID.pattern})/{_FILE_STEM}(?P=run_id)\.snapshot\.json\.gz"
)
_S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")
_MERGE_CLAIM = "merge.claim"
_SHARD_RUNS = "shards/"
_PART = re.compile(r"shard-(?P<number>\d{4})-of-(?P<count>\d{4})\.snapshot\.json\.gz$")

Body = bytes | Path


class WriteFailed(PublishError):
    """A write the bucket refused or could not take. `passing` when waiting may help (5xx, throttling,
    the network); `attempts` how many were made."""

    def __init__(self, reason: str, *, fix: str, passing: bool = False, attempts: int = 1) -> None:
        super().__init__(reason, fix=fix)
        self.passing = passing
        self.attempts = attempts


class ObjectExists(WriteFailed):
    """A create-only write found the key taken: it is never overwritten."""


class ObjectChanged(WriteFailed):
    """A replace-if-unchanged write lost: someone wrote the key since it was read."""


class UnreadableObject(ConfigReportError):
    """An object or a listing could not be read: its `uri`, the IAM `action` that failed, AWS's `reason`."""

    def __init__(self, uri: str, *, action: str, reason: str) -> None:
        super().__init__(f"cannot read {uri} ({reason})")
        self.uri = uri
        self.action = action
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Stored:
    """An object as read: its bytes and the version (ETag) a `replace` must match."""

    body: bytes
    etag: str


@dataclass(frozen=True, slots=True)
class SnapshotObject:
    """One run's snapshot in the bucket."""

    key: str
    run_id: str
    uri: str


class ReportBucket(ABC):
    """The report bucket under its prefix: the key layout, and reads and writes with one set of rules."""

    def __init__(
        self,
        config: BucketConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`sleep` and `clock` are what the upload retries wait with and tell the time by."""
        self.config = config
        self.name = config.bucket or ""
        self.prefix = config.prefix
        self._sleep = sleep
        self._clock = clock

    @property
    def configured(self) -> bool:
        """False when no bucket is set (a dry run may go without one): there is nothing to read."""
        return bool(self.name)

    # --- the key layout --------------------------------------------------------------------------------

    def uri(self, key: str) -> str:
        """The `s3://` URI of `key`."""
        return f"s3://{self.name}/{key}"

    def run_folder(self, started_at: datetime, run_id: str) -> str:
        """The dated folder of one run's files."""
        return f"{self.prefix}{started_at:%Y/%m/%d}/{run_id}/"

    @staticmethod
    def file_stem(run_id: str) -> str:
        """What every file of run `run_id` is named after (unique, so downloads never collide)."""
        return f"{_FILE_STEM}{run_id}"

    def preflight_key(self, run_id: str) -> str:
        """A run's preflight marker: beside the dated folders, never mistaken for a report."""
        return f"{self.prefix}preflight/{run_id}.txt"

    @property
    def latest_key(self) -> str:
        """The pointer to the newest published run."""
        return f"{self.prefix}latest.json"

    @property
    def history_key(self) -> str:
        """The run history (one JSON line per run)."""
        return f"{self.prefix}history/runs.jsonl"

    def ticket_key(self, week: str) -> str:
        """The record of `week`'s Jira ticket (e.g. `2026-W48`)."""
        return f"{self.prefix}jira/{week}.json"

    def shard_run_key(self, run_name: str) -> str:
        """The identity every shard of the sharded run `run_name` shares."""
        return f"{self.prefix}{_SHARD_RUNS}{run_name}.json"

    def shard_run_names(self) -> list[str]:
        """The name of every sharded run under the prefix, sorted; raises `UnreadableObject`."""
        folder = f"{self.prefix}{_SHARD_RUNS}"
        keys = (key.removeprefix(folder) for key in self.keys(folder))
        return sorted(key.removesuffix(".json") for key in keys if key.endswith(".json") and "/" not in key)

    @staticmethod
    def parts_folder(run_folder: str) -> str:
        """Where a sharded run's parts go, inside its run folder."""
        return f"{run_folder}parts/"

    def part_key(self, run_folder: str, *, index: int, count: int) -> str:
        """The partial snapshot of shard `index` (from 0) of `count`."""
        return f"{self.parts_folder(run_folder)}shard-{index + 1:04d}-of-{count:04d}.snapshot.json.gz"

    def parts(self, run_folder: str, *, count: int) -> dict[int, str]:
        """Shard index (from 0) → key of its part, for the parts of a `count`-shard run written so far."""
        found: dict[int, str] = {}
        for key in self.keys(self.parts_folder(run_folder)):
            match = _PART.search(key)
            if match and int(match["count"]) == count:
                found[int(match["number"]) - 1] = key
        return found

    def merge_claim_key(self, run_folder: str) -> str:
        """The claim of the pod that merges a sharded run."""
        return self.parts_folder(run_folder) + _MERGE_CLAIM

    def snapshots(self) -> list[SnapshotObject]:
        """Every run's snapshot under the prefix, oldest first; raises `UnreadableObject` if S3 refuses."""
        found = []
        for key in self.keys(self.prefix):
            match = _SNAPSHOT_KEY.fullmatch(key[len(self.prefix) :])
            if match:
                found.append(SnapshotObject(key, match["run_id"], self.uri(key)))
        return sorted(found, key=lambda s: s.run_id)

    # --- writes ----------------------------------------------------------------------------------------

    @property
    def upload_retry(self) -> Retry:
        """How long a refused or failed upload is tried again (CONFIG_REPORT_UPLOAD_RETRY_SECONDS)."""
        return Retry(
            attempts=None, seconds=self.config.upload_retry_seconds, sleep=self._sleep, clock=self._clock
        )

    def create(
        self, key: str, body: Body, *, content_type: str, retry: Retry | None = None, refusals: bool = True
    ) -> None:
        """Write `key` unless it exists (`ObjectExists`), tried again as `retry` says (default: once);
        `refusals=False` retries only what may pass by itself. Raises `WriteFailed` when it could not."""
        tries = 0

        def attempt(number: int) -> None:
            nonlocal tries
            tries = number
            self._put(key, body, content_type=content_type, if_none_match=True)

        def retryable(exc: Exception) -> bool:
            return (
                isinstance(exc, WriteFailed)
                and not isinstance(exc, ObjectExists)
                and (exc.passing or refusals)
            )

        def log(number: int, delay: float, exc: Exception) -> None:
            reason = exc.reason if isinstance(exc, WriteFailed) else str(exc)
            get_logger().warning("upload.retry", key=key, attempt=number, retry_in_s=delay, error=reason)

        try:
            (retry or Retry()).call(attempt, retryable=retryable, on_retry=log)
        except WriteFailed as exc:
            exc.attempts = tries
            raise

    def claim(self, key: str, body: bytes) -> bool:
        """Create `key` if nobody has: True for exactly one writer, False for every other."""
        try:
            self._put(key, body, content_type="application/json", if_none_match=True)
        except ObjectExists:
            return False
        return True

    def replace(self, key: str, body: bytes, *, etag: str | None, content_type: str) -> None:
        """Write `key` over exactly version `etag` (None: only if there is none yet), else `ObjectChanged`."""
        if etag is None:
            try:
                self._put(key, body, content_type=content_type, if_none_match=True)
            except ObjectExists as exc:
                raise ObjectChanged(exc.reason, fix=exc.fix) from exc
            return
        self._put(key, body, content_type=content_type, if_match=etag)

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        """Write `key`, replacing what is there: only for objects that are rewritten on purpose."""
        self._put(key, body, content_type=content_type)

    # --- reads -----------------------------------------------------------------------------------------

    def read(self, key: str) -> Stored | None:
        """`key`'s bytes and version, or None when it does not exist.

        Listing first tells "not there" from "not allowed": without the right to list the whole
        bucket, S3 answers a missing key with 403, not 404. Raises `UnreadableObject`.
        """
        if not self._listed(key):
            return None
        return self._get(self.name, key)

    def fetch(self, key: str) -> bytes:
        """The bytes of `key`, known to exist (found by listing); raises `UnreadableObject`."""
        return self._get(self.name, key).body

    def fetch_uri(self, uri: str) -> bytes:
        """The bytes of any `s3://bucket/key` the hub may read (an exceptions file, a backfill's
        baseline); raises `UnreadableObject`."""
        return self._get(*_located(uri)).body

    def download(self, where: str, into: IO[bytes]) -> None:
        """Copy `where` (a key of this bucket, or any `s3://bucket/key` the hub may read) into `into` a
        megabyte at a time, so that a snapshot of any size never has to fit in memory; raises
        `UnreadableObject`."""
        bucket, key = _located(where) if where.startswith("s3://") else (self.name, where)
        self._copy(bucket, key, into)

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix`; raises `UnreadableObject` when listing is refused."""
        return self._list(prefix)

    def exists(self, key: str) -> bool:
        """True when `key` exists (False also when it cannot be told)."""
        try:
            return self._listed(key)
        except UnreadableObject:
            return False

    # --- what each implementation provides -------------------------------------------------------------

    @abstractmethod
    def _put(
        self,
        key: str,
        body: Body,
        *,
        content_type: str,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> None:
        """One write; raises `ObjectExists`, `ObjectChanged` or `WriteFailed`."""

    @abstractmethod
    def _get(self, bucket: str, key: str) -> Stored:
        """One object of `bucket`; raises `UnreadableObject`."""

    @abstractmethod
    def _copy(self, bucket: str, key: str, into: IO[bytes]) -> None:
        """One object of `bucket` written into `into` as it arrives; raises `UnreadableObject`."""

    @abstractmethod
    def _list(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix`; raises `UnreadableObject`."""

    @abstractmethod
    def _listed(self, key: str) -> bool:
        """True when listing `key` as a prefix finds `key` itself; raises `UnreadableObject`."""


# --- the bucket in S3 ----------------------------------------------------------------------------------

_CONTENT_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".gz": "application/gzip",
    ".json": "application/json",
}
_PASSING_CODES = frozenset(
    {"RequestTimeout", "SlowDown", "Throttling", "ThrottlingException", "TooManyRequests"}
)
"""4xx answers that say "not now" rather than "no": waiting may help."""


def content_type(path: Path) -> str:
    """The media type a run file is uploaded with."""
    return _CONTENT_TYPES.get(path.suffix, "application/octet-stream")


class S3Bucket(ReportBucket):
    """The report bucket in S3, through the hub's session."""

    def __init__(
        self,
        config: BucketConfig,
        *,
        session: Any,
        client_config: Any,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`session` is the hub's boto3 session and `client_config` the shared botocore `Config`."""
        super().__init__(config, sleep=sleep, clock=clock)
        self._s3 = session.client("s3", config=client_config)

    def _put(
        self,
        key: str,
        body: Body,
        *,
        content_type: str,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> None:
        condition: dict[str, str] = {}
        if if_none_match:
            condition["IfNoneMatch"] = "*"
        if if_match is not None:
            condition["IfMatch"] = if_match
        try:
            if isinstance(body, Path):
                with body.open("rb") as stream:
                    self._s3.put_object(
                        Bucket=self.name,
                        Key=key,
                        Body=stream,
                        ChecksumAlgorithm="SHA256",
                        ContentType=content_type,
                        **condition,
                        **self._encryption(),
                    )
            else:
                self._s3.put_object(
                    Bucket=self.name,
                    Key=key,
                    Body=body,
                    ContentType=content_type,
                    **condition,
                    **self._encryption(),
                )
        except AwsError as exc:
            raise self._write_failure(
                exc, conditional=bool(condition), replacing=if_match is not None
            ) from exc

    def _encryption(self) -> dict[str, str]:
        # Always sent, so a bucket policy that refuses unencrypted uploads (a common guard checking
        # `s3:x-amz-server-side-encryption`) accepts ours.
        if self.config.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.config.kms_key_id}
        return {"ServerSideEncryption": "AES256"}

    def _write_failure(self, exc: BaseException, *, conditional: bool, replacing: bool) -> WriteFailed:
        reason, fix = describe_error(exc), self._write_fix(exc)
        if conditional and (error_code(exc) == "PreconditionFailed" or http_status(exc) in (409, 412)):
            return (ObjectChanged if replacing else ObjectExists)(reason, fix=fix)
        status = http_status(exc)
        refused = 400 <= status < 500 and error_code(exc) not in _PASSING_CODES
        return WriteFailed(reason, fix=fix, passing=not refused)

    def _write_fix(self, exc: BaseException) -> str:
        """What to fix when S3 refused a write: a missing bucket, a denied write and a denied key differ."""
        if is_network_error(exc):
            return f"network error, not a permission: {NETWORK_HINT}"
        code, message = error_code(exc), str(exc)
        if code == "NoSuchBucket":
            return (
                f"bucket {self.name} does not exist: correct CONFIG_REPORT_S3_BUCKET (a typo?) or create the "
                "bucket (docs/deploy.md, 'The report bucket')"
            )
        if code.startswith("KMS.") or "kms:" in message:
            return (
                f"the hub role may not use the KMS key {self.config.kms_key_id or '(bucket default)'}: allow "
                "it kms:GenerateDataKey and kms:Decrypt in the hub role's policy (kms_key_arn) and in the "
                "key policy, or correct CONFIG_REPORT_S3_KMS_KEY_ID"
            )
        if code in ("AccessDenied", "AllAccessDisabled") or "403" in code:
            return (
                f"grant the hub role s3:PutObject on arn:aws:s3:::{self.name}/<prefix>* (Terraform hub "
                "example: report_bucket, report_prefix); a bucket in another account also needs a bucket "
                "policy allowing the hub role"
            )
        return "check CONFIG_REPORT_S3_BUCKET and the network path to S3"

    def _get(self, bucket: str, key: str) -> Stored:
        try:
            answer = self._s3.get_object(Bucket=bucket, Key=key)
            return Stored(answer["Body"].read(), str(answer["ETag"]))
        except AwsError as exc:
            raise _unreadable(bucket, key, exc) from exc

    def _copy(self, bucket: str, key: str, into: IO[bytes]) -> None:
        try:
            for chunk in self._s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(_COPY_CHUNK):
                into.write(chunk)
        except AwsError as exc:
            raise _unreadable(bucket, key, exc) from exc

    def _list(self, prefix: str) -> Iterator[str]:
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
                for item in page.get("Contents", ()):
                    yield item["Key"]
        except AwsError as exc:
            raise UnreadableObject(
                self.uri(prefix), action="s3:ListBucket", reason=describe_error(exc)
            ) from exc

    def _listed(self, key: str) -> bool:
        try:
            listed = self._s3.list_objects_v2(Bucket=self.name, Prefix=key, MaxKeys=1)
        except AwsError as exc:
            raise UnreadableObject(self.uri(key), action="s3:ListBucket", reason=describe_error(exc)) from exc
        return any(item["Key"] == key for item in listed.get("Contents", ()))


_COPY_CHUNK = 1024 * 1024


def _located(uri: str) -> tuple[str, str]:
    """The bucket and key of an `s3://bucket/key` URI; raises `UnreadableObject` for anything else."""
    match = _S3_URI.match(uri)
    if not match:
        raise UnreadableObject(uri, action="s3:GetObject", reason="not an s3://bucket/key URI")
    return match["bucket"], match["key"]


def _unreadable(bucket: str, key: str, exc: Exception) -> UnreadableObject:
    return UnreadableObject(f"s3://{bucket}/{key}", action="s3:GetObject", reason=describe_error(exc))


# --- the bucket in memory ------------------------------------------------------------------------------


class MemoryBucket(ReportBucket):
    """The report bucket as a dict, with S3's rules for conditional writes: for the stages' own tests.

    `refuse_writes` makes the next N writes fail as a refused S3 write would (`WriteFailed`).
    """

    def __init__(
        self,
        config: BucketConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(config, sleep=sleep, clock=clock)
        self.objects: dict[str, Stored] = {}
        self.refuse_writes = 0

    def _put(
        self,
        key: str,
        body: Body,
        *,
        content_type: str,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> None:
        if self.refuse_writes:
            self.refuse_writes -= 1
            raise WriteFailed(f"PutObject: AccessDenied: {key} refused", fix="a refusal the test asked for")
        current = self.objects.get(key)
        if if_none_match and current is not None:
            raise ObjectExists(f"PutObject: PreconditionFailed: {key} exists", fix="never overwrite it")
        if if_match is not None and (current is None or current.etag != if_match):
            raise ObjectChanged(f"PutObject: PreconditionFailed: {key} changed", fix="read it again")
        data = body.read_bytes() if isinstance(body, Path) else body
        self.objects[key] = Stored(data, f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"')

    def _get(self, bucket: str, key: str) -> Stored:
        found = self.objects.get(key) if bucket == self.name else None
        if found is None:
            reason = "GetObject: NoSuchKey: The specified key does not exist."
            raise UnreadableObject(f"s3://{bucket}/{key}", action="s3:GetObject", reason=reason)
        return found

    def _copy(self, bucket: str, key: str, into: IO[bytes]) -> None:
        into.write(self._get(bucket, key).body)

    def _list(self, prefix: str) -> Iterator[str]:
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def _listed(self, key: str) -> bool:
        return key in self.objects
