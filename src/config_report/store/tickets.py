"""The record of each week's Jira ticket in the report bucket: `PREFIX/jira/<week>.json`.

`{"week": "2026-W48", "key": "SEC-123", "run_id": "...", "recorded_at": "..."}`: written the moment the
ticket is created, read before searching Jira (`jira.TicketLedger`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from config_report.errors import JiraError
from config_report.store.bucket import RUN_ID, ReportBucket, UnreadableObject, WriteFailed

_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[0-9]+$")


class TicketRecords:
    """A `jira.TicketLedger` holding one small JSON object per week in the report bucket."""

    def __init__(self, bucket: ReportBucket) -> None:
        self._bucket = bucket

    def known_key(self, week: str) -> str | None:
        """The key stored for `week`, or None; an unreadable record is an error, not an empty one."""
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
        return run_id if isinstance(run_id, str) and RUN_ID.fullmatch(run_id) else None

    def _record(self, week: str) -> dict[str, object] | None:
        try:
            stored = self._bucket.read(self._bucket.ticket_key(week))
        except UnreadableObject as exc:
            raise JiraError(f"cannot read the ticket record {self._uri(week)}: {exc.reason}") from exc
        if stored is None:
            return None
        try:
            record = json.loads(stored.body)
        except ValueError as exc:
            raise self._not_a_record(week) from exc
        if not isinstance(record, dict):
            raise self._not_a_record(week)
        return record

    def remember(self, week: str, key: str, *, run_id: str) -> None:
        """Write `{"week", "key", "run_id", "recorded_at"}` for `week` (a week's record, not a run's file)."""
        record = {"week": week, "key": key, "run_id": run_id, "recorded_at": datetime.now(UTC).isoformat()}
        try:
            body = json.dumps(record).encode()
            self._bucket.put(self._bucket.ticket_key(week), body, content_type="application/json")
        except WriteFailed as exc:
            raise JiraError(f"cannot write the ticket record {self._uri(week)}: {exc.reason}") from exc

    def _not_a_record(self, week: str) -> JiraError:
        return JiraError(f"{self._uri(week)} is not a ticket record; delete it to start over")

    def _uri(self, week: str) -> str:
        return self._bucket.uri(self._bucket.ticket_key(week))
