"""The run history: one JSON line per run in one small S3 object, and the 12-week trend drawn from it.

    s3://BUCKET/PREFIX/history/runs.jsonl
    {"schema": "config-report/history/v1", "date": "2026-11-23", "run_id": "...", "started_at": "...",
     "accounts": 25, "noncompliant_resources": 812, "regions_scanned": 61, "regions_total": 75,
     "coverage_gaps": 0, "new_findings": 14, "resolved_findings": 9}

The object is always written whole, conditionally on the version that was read (`If-Match` its ETag,
or `If-None-Match: *` when there was none), so two runs at once cannot silently drop each other's
line: the loser reads the winner's object and tries again. A missing or corrupt history is rebuilt from
the snapshots of the trend's weeks, or started afresh when there are none; a log line says which.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from config_report.aws.session import describe_error
from config_report.domain.model import FindingStatus, HistoryEntry, Report
from config_report.logs import get_logger
from config_report.store.bucket import encryption

SCHEMA = "config-report/history/v1"
HISTORY_KEY = "history/runs.jsonl"
TREND_WEEKS = 12
SAVE_ATTEMPTS = 3


def entry_for(report: Report) -> HistoryEntry:
    """The history line of a run."""
    figures = report.figures()
    changes = report.changes
    compared = changes is not None and changes.baseline.usable
    return HistoryEntry(
        run_id=report.run.run_id,
        started_at=report.run.started_at,
        accounts=figures.accounts,
        noncompliant_resources=figures.noncompliant_resources,
        regions_scanned=figures.regions_scanned,
        regions_total=figures.regions_total,
        coverage_gaps=figures.coverage_gaps,
        new_findings=len(changes.new) if changes is not None and compared else None,
        resolved_findings=len(changes.resolved) if changes is not None and compared else None,
    )


def rebuilt_entry(report: Report) -> HistoryEntry:
    """A history line recovered from a run's snapshot: its figures and, when stored, its NEW count."""
    entry = entry_for(report)
    statuses = [f.status for f in report.findings()]
    if any(s is not None for s in statuses):
        return replace(entry, new_findings=statuses.count(FindingStatus.NEW))
    return entry


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
            entries.append(
                HistoryEntry(
                    run_id=str(item["run_id"]),
                    started_at=datetime.fromisoformat(item["started_at"]),
                    accounts=int(item["accounts"]),
                    noncompliant_resources=int(item["noncompliant_resources"]),
                    regions_scanned=int(item["regions_scanned"]),
                    regions_total=int(item["regions_total"]),
                    coverage_gaps=int(item["coverage_gaps"]),
                    new_findings=_optional_int(item.get("new_findings")),
                    resolved_findings=_optional_int(item.get("resolved_findings")),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"line {number} is not a history line: {exc}") from exc
    return entries


def _optional_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def recorded(entries: Iterable[HistoryEntry], entry: HistoryEntry) -> list[HistoryEntry]:
    """`entries` with `entry` added (replacing a line of the same run), oldest first."""
    kept = {e.run_id: e for e in entries}
    kept[entry.run_id] = entry
    return [kept[run_id] for run_id in sorted(kept)]


def trend(
    entries: Iterable[HistoryEntry], *, until: datetime, weeks: int = TREND_WEEKS
) -> tuple[HistoryEntry, ...]:
    """The last `weeks` ISO weeks up to `until`: each week's latest run, oldest first."""
    first_day = _monday(until.date()) - timedelta(weeks=weeks - 1)
    latest: dict[tuple[int, int], HistoryEntry] = {}
    for entry in sorted(entries, key=lambda e: e.run_id):
        day = entry.started_at.date()
        if first_day <= day and entry.started_at <= until:
            year, week, _ = day.isocalendar()
            latest[year, week] = entry
    return tuple(latest[week] for week in sorted(latest))


def trend_start(until: datetime, weeks: int = TREND_WEEKS) -> datetime:
    """The start of the trend's first week (its Monday, 00:00 UTC)."""
    monday = _monday(until.date()) - timedelta(weeks=weeks - 1)
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True, slots=True)
class LoadedHistory:
    """The history as read: its entries, the version to write over, and how it was obtained."""

    entries: tuple[HistoryEntry, ...]
    etag: str | None
    how: Literal["read", "rebuilt", "started"]


class HistoryStore:
    """The history object in the report bucket."""

    def __init__(self, s3: Any, *, bucket: str, prefix: str, kms_key_id: str | None) -> None:
        """The history under `prefix` in `bucket`, written with SSE-KMS under `kms_key_id` when set."""
        self._s3 = s3
        self._bucket = bucket
        self._key = prefix + HISTORY_KEY
        self._kms_key_id = kms_key_id

    @property
    def uri(self) -> str:
        """The history object's `s3://` URI."""
        return f"s3://{self._bucket}/{self._key}"

    def load(self, rebuild: Callable[[], Sequence[HistoryEntry]]) -> LoadedHistory:
        """The history; when missing or corrupt, `rebuild()`'s entries (or none), saying which."""
        log = get_logger()
        etag: str | None = None
        try:
            data, etag = self._read()
            if data is not None:
                return LoadedHistory(tuple(decode(data)), etag, "read")
            reason = "missing"
        except (ValueError, UnicodeDecodeError) as exc:
            reason = f"corrupt ({exc})"
        except (ClientError, BotoCoreError) as exc:
            reason = f"unreadable ({describe_error(exc)})"
        entries = tuple(rebuild())
        how: Literal["rebuilt", "started"] = "rebuilt" if entries else "started"
        if how == "rebuilt":
            log.warning("history.rebuilt", history=self.uri, reason=reason, runs=len(entries))
        else:
            log.warning("history.started", history=self.uri, reason=reason)
        return LoadedHistory(entries, etag, how)

    def _read(self) -> tuple[bytes | None, str | None]:
        # Listing first tells "no history yet" from "not allowed to read it" whatever the bucket policy.
        listed = self._s3.list_objects_v2(Bucket=self._bucket, Prefix=self._key, MaxKeys=1)
        if not any(item["Key"] == self._key for item in listed.get("Contents", ())):
            return None, None
        answer = self._s3.get_object(Bucket=self._bucket, Key=self._key)
        return answer["Body"].read(), str(answer["ETag"])

    def save(self, loaded: LoadedHistory, entry: HistoryEntry) -> bool:
        """Write the history with `entry` added; False (and a log line) when it could not be written."""
        log = get_logger()
        entries, etag = loaded.entries, loaded.etag
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
            try:
                self._s3.put_object(
                    Bucket=self._bucket,
                    Key=self._key,
                    Body=encode(recorded(entries, entry)),
                    ContentType="application/x-ndjson",
                    **condition,
                    **encryption(self._kms_key_id),
                )
                return True
            except ClientError as exc:
                if not _lost_race(exc) or attempt == SAVE_ATTEMPTS:
                    log.warning("history.not_saved", history=self.uri, error=describe_error(exc))
                    return False
            except BotoCoreError as exc:
                log.warning("history.not_saved", history=self.uri, error=describe_error(exc))
                return False
            # Another run wrote the history since it was read: merge into what it wrote.
            log.info("history.concurrent_write", history=self.uri, attempt=attempt + 1)
            try:
                data, etag = self._read()
                entries = tuple(decode(data)) if data is not None else entries
            except (ClientError, BotoCoreError, ValueError, UnicodeDecodeError) as exc:
                log.warning("history.not_saved", history=self.uri, error=f"cannot re-read it: {exc}")
                return False
        raise AssertionError("unreachable: the last attempt returns")


def _lost_race(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    return code in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
