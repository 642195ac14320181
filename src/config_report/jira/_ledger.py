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
from config_report.publish import encryption

_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[0-9]+$")


class TicketLedger(Protocol):
    """Remembers which ticket belongs to which ISO week (for example `2026-W48`)."""

    def known_key(self, week: str) -> str | None:
        """The key stored for `week`, or None when no ticket was created for it yet."""
        ...

    def remember(self, week: str, key: str) -> None:
        """Store `key` as the ticket of `week`."""
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
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=self.object_key(week))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self._error("read", week, exc) from exc
        except BotoCoreError as exc:
            raise self._error("read", week, exc) from exc
        try:
            key = str(json.loads(body)["key"])
        except (ValueError, KeyError, TypeError) as exc:
            raise self._not_a_record(week) from exc
        if not _ISSUE_KEY.match(key):  # it goes into a URL path: only a real issue key may
            raise self._not_a_record(week)
        return key

    def remember(self, week: str, key: str) -> None:
        """Write `{"week", "key", "recorded_at"}` for `week` (a week's record, never a run's file)."""
        record = {"week": week, "key": key, "recorded_at": datetime.now(UTC).isoformat()}
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
