"""The run history: one JSON line per run in one small object of the report bucket (`domain.trend`
draws the 12-week trend from it).

    s3://BUCKET/PREFIX/history/runs.jsonl
    {"schema": "config-report/history/v1", "date": "2026-11-23", "run_id": "...", "started_at": "...",
     "accounts": 25, "noncompliant_resources": 812, "regions_scanned": 61, "regions_total": 75,
     "coverage_gaps": 0, "new_findings": 14, "resolved_findings": 9, "failing_evaluations": 1290,
     "critical_high_resources": 97}

`noncompliant_resources` counts distinct resources. Lines written before it did hold evaluations there
and have no `failing_evaluations`: they are read as evaluations with the resources unknown, until
the run's snapshot rebuilds them (`app.run.with_trend`). Lines written before severities were rated
have no `critical_high_resources`: the trend leaves that week's figure blank.

The object is always written whole, conditionally on the version that was read (`If-Match` its ETag,
or `If-None-Match: *` when there was none), so two runs at once cannot silently drop each other's
line: the loser reads the winner's object and tries again. A missing or corrupt history is rebuilt from
the snapshots of the trend's weeks, or started afresh when there are none; a log line says which.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal

from config_report.domain.model import HistoryEntry
from config_report.domain.trend import recorded
from config_report.logs import get_logger
from config_report.retry import Retry
from config_report.store.bucket import ObjectChanged, ReportBucket, UnreadableObject, WriteFailed

SCHEMA = "config-report/history/v1"
# A run that keeps losing the race to other runs' writes gives up its line after this many attempts.
SAVE_ATTEMPTS = 3


def encode(entries: Iterable[HistoryEntry]) -> bytes:
    """The history object's bytes: one JSON line per run, oldest first."""
    lines = []
    for entry in entries:
        fields = asdict(entry)
        started: datetime = fields.pop("started_at")
        utc = started.astimezone(UTC) if started.tzinfo else started.replace(tzinfo=UTC)
        line = {"schema": SCHEMA, "date": utc.date().isoformat(), **fields, "started_at": utc.isoformat()}
        lines.append(json.dumps(line, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode() if lines else b""


def decode(data: bytes) -> list[HistoryEntry]:
    """The entries of a history object; raises `ValueError` when any line is not a v1 history line."""
    entries = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if item.get("schema") != SCHEMA:
                raise ValueError(f"schema {item.get('schema')!r}, expected {SCHEMA!r}")
            counted_once = "failing_evaluations" in item
            resources = _optional_int(item["noncompliant_resources"])
            entries.append(
                HistoryEntry(
                    run_id=str(item["run_id"]),
                    started_at=datetime.fromisoformat(item["started_at"]),
                    accounts=int(item["accounts"]),
                    noncompliant_resources=resources if counted_once else None,
                    regions_scanned=int(item["regions_scanned"]),
                    regions_total=int(item["regions_total"]),
                    coverage_gaps=int(item["coverage_gaps"]),
                    new_findings=_optional_int(item.get("new_findings")),
                    resolved_findings=_optional_int(item.get("resolved_findings")),
                    failing_evaluations=_optional_int(item["failing_evaluations"])
                    if counted_once
                    else resources,
                    critical_high_resources=_optional_int(item.get("critical_high_resources")),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"line {number} is not a history line: {exc}") from exc
    return entries


def _optional_int(value: object) -> int | None:
    return None if value is None else int(str(value))


@dataclass(frozen=True, slots=True)
class LoadedHistory:
    """The history as read: its entries, the version to write over, and how it was obtained."""

    entries: tuple[HistoryEntry, ...]
    etag: str | None
    how: Literal["read", "rebuilt", "started"]


class HistoryStore:
    """The history object in the report bucket."""

    def __init__(self, bucket: ReportBucket) -> None:
        self._bucket = bucket
        self._key = bucket.history_key

    @property
    def uri(self) -> str:
        """The history object's `s3://` URI."""
        return self._bucket.uri(self._key)

    def load(self, rebuild: Callable[[], Sequence[HistoryEntry]]) -> LoadedHistory:
        """The history; when missing or corrupt, `rebuild()`'s entries (or none), saying which."""
        log = get_logger()
        etag: str | None = None
        try:
            stored = self._bucket.read(self._key)
            if stored is not None:
                etag = stored.etag
                return LoadedHistory(tuple(decode(stored.body)), etag, "read")
            reason = "missing"
        except (ValueError, UnicodeDecodeError) as exc:
            reason = f"corrupt ({exc})"
        except UnreadableObject as exc:
            reason = f"unreadable ({exc.reason})"
        entries = tuple(rebuild())
        how: Literal["rebuilt", "started"] = "rebuilt" if entries else "started"
        if how == "rebuilt":
            log.warning("history.rebuilt", history=self.uri, reason=reason, runs=len(entries))
        else:
            log.warning("history.started", history=self.uri, reason=reason)
        return LoadedHistory(entries, etag, how)

    def save(self, loaded: LoadedHistory, entry: HistoryEntry) -> bool:
        """Write the history with `entry` added; False (and a log line) when it could not be written.

        A write that lost the race to another run's merges into what that run wrote, and tries again.
        """
        log = get_logger()
        entries, etag = loaded.entries, loaded.etag

        def write(attempt: int) -> None:
            nonlocal entries, etag
            if attempt > 1:
                log.info("history.concurrent_write", history=self.uri, attempt=attempt)
                stored = self._bucket.read(self._key)
                entries, etag = (tuple(decode(stored.body)), stored.etag) if stored else (entries, None)
            body = encode(recorded(entries, entry))
            self._bucket.replace(self._key, body, etag=etag, content_type="application/x-ndjson")

        try:
            Retry(attempts=SAVE_ATTEMPTS, wait=False).call(
                write, retryable=lambda exc: isinstance(exc, ObjectChanged)
            )
        except WriteFailed as exc:
            log.warning("history.not_saved", history=self.uri, error=exc.reason)
            return False
        except (UnreadableObject, ValueError, UnicodeDecodeError) as exc:
            log.warning("history.not_saved", history=self.uri, error=f"cannot re-read it: {exc}")
            return False
        return True
