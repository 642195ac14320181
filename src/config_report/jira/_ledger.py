"""Where the key of each week's ticket is kept, so a re-run never depends on Jira's search alone.

Jira Cloud's search is eventually consistent: a ticket created a minute ago may not be found yet.
The key is therefore written to S3 beside the reports the moment the ticket exists, and read first.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from config_report.errors import JiraError
from config_report.store.bucket import encryption

_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[0-9]+$")
_RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]+$")


class TicketLedger(Protocol):
    """Remembers which ticket belongs to which ISO week (for example `2026-W48`)."""

    def known_key(self, week: str) -> str | None:
        """The key stored for `week`, or None when no ticket was created for it yet."""
        ...

    def created_by(self, week: str) -> str | None:
        """The run ID that created `week`'s ticket, or None when not recorded."""
        ...

    def remember(self, week: str, key: str, *, run_id: str) -> None:
        """Store `key` as the ticket of `week`, created by run `run_id`."""
        ...


class S3TicketLedger:
    """A `TicketLedger` holding one small JSON object per week at `<prefix>jira/<week>.json`."""

    def __init__(self, s3: Any, *, bucket: str, prefix: str, kms_key_id: str | None = None) -> None:
        """`s3` is a boto3 S3 client; objects are written with SSE-KMS when `kms_key_id` is set."""
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix
        self._kms_key_id = kms_key_id

    def object_key(self, week: str) -> str:
        """The S3 key holding `week`'s ticket key."""
        return f"{self._prefix}jira/{week}.json"

    def known_key(self, week: str) -> str | None:
        """The key stored for `week`, or None; an unreadable ledger is an error, not an empty one."""
        record = self._record(week)
        if record is None:
            return None
        key = str(record.get("key"))
        if not _ISSUE_KEY.match(key):  # it goes into a URL path: only a real issue key may
            raise self._not_a_record(week)
        return key

    def created_by(self, week: str) -> str | None:
        """The run that created `week`'s ticket (records written before runs were recorded have none)."""
        record = self._record(week)
        run_id = record.get("run_id") if record is not None else None
        return run_id if isinstance(run_id, str) and _RUN_ID.match(run_id) else None

    def _record(self, week: str) -> dict[str, object] | None:
        key = self.object_key(week)
        try:
            # Listing first: without a right to list the whole bucket, S3 answers a missing key with
            # 403, not 404; listing the prefix tells "no ticket yet" from "denied" under least privilege.
            listed = self._s3.list_objects_v2(Bucket=self._bucket, Prefix=key, MaxKeys=1)
            if not any(item["Key"] == key for item in listed.get("Contents", ())):
                return None
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise self._error("read", week, exc) from exc
        except BotoCoreError as exc:
            raise self._error("read", week, exc) from exc
        try:
            record = json.loads(body)
        except ValueError as exc:
            raise self._not_a_record(week) from exc
        if not isinstance(record, dict):
            raise self._not_a_record(week)
        return record

    def remember(self, week: str, key: str, *, run_id: str) -> None:
        """Write `{"week", "key", "run_id", "recorded_at"}` for `week` (a week's record, not a run's file)."""
        record = {"week": week, "key": key, "run_id": run_id, "recorded_at": datetime.now(UTC).isoformat()}
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=self.object_key(week),
                Body=json.dumps(record).encode(),
                ContentType="application/json",
                **encryption(self._kms_key_id),
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error("write", week, exc) from exc

    def _not_a_record(self, week: str) -> JiraError:
        return JiraError(f"{self._uri(week)} is not a ticket record; delete it to start over")

    def _uri(self, week: str) -> str:
        return f"s3://{self._bucket}/{self.object_key(week)}"

    def _error(self, verb: str, week: str, exc: Exception) -> JiraError:
        return JiraError(f"cannot {verb} the ticket record {self._uri(week)}: {exc}")
