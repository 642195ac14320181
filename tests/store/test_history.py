"""The history object in the report bucket: its lines, and two runs writing it at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from config_report.domain.model import HistoryEntry
from config_report.settings import BucketConfig
from config_report.store.bucket import MemoryBucket
from config_report.store.history import HistoryStore, decode, encode

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def entry(started: datetime, resources: int = 10, run: str = "") -> HistoryEntry:
    return HistoryEntry(
        run_id=run or f"{started:%Y%m%dT%H%M%SZ}-000000",
        started_at=started,
        accounts=3,
        noncompliant_resources=resources,
        regions_scanned=4,
        regions_total=5,
        coverage_gaps=1,
    )


def test_lines_round_trip_and_name_their_schema_and_date() -> None:
    entries = [entry(MONDAY - timedelta(weeks=1)), replace(entry(MONDAY, 12), critical_high_resources=5)]

    data = encode(entries)

    assert decode(data) == entries
    first = data.decode().splitlines()[0]
    assert first.startswith('{"schema": "config-report/history/v1", "date": "2026-11-23"')


@pytest.mark.parametrize(
    "data", [b"not json\n", b'{"schema": "other"}\n', b'{"schema": "config-report/history/v1"}\n']
)
def test_anything_but_history_lines_is_a_value_error_naming_the_line(data: bytes) -> None:
    with pytest.raises(ValueError, match="line 1 is not a history line"):
        decode(data)


def test_a_line_from_before_resources_were_counted_once_reads_as_evaluations_with_no_resource_count() -> None:
    old = (
        b'{"schema": "config-report/history/v1", "date": "2026-11-23", "run_id": "20261123T090000Z-aaaaaa", '
    )
    old += b'"started_at": "2026-11-23T09:00:00+00:00", "accounts": 3, "noncompliant_resources": 42, '
    old += b'"regions_scanned": 4, "regions_total": 5, "coverage_gaps": 0}\n'

    (line,) = decode(old)

    assert (line.noncompliant_resources, line.failing_evaluations) == (None, 42)
    assert line.critical_high_resources is None, "a line from before severities has no such count, not 0"


def _bucket() -> MemoryBucket:
    return MemoryBucket(
        BucketConfig(bucket="reports", prefix="weekly/", kms_key_id=None, upload_retry_seconds=0)
    )


def test_a_run_that_loses_the_race_to_another_merges_its_line_into_what_the_other_wrote() -> None:
    bucket = _bucket()
    late = HistoryStore(bucket)
    loaded_early = late.load(list)  # both runs read "no history yet"
    early = HistoryStore(bucket)
    assert early.save(early.load(list), entry(MONDAY - timedelta(hours=1), 5))

    assert late.save(loaded_early, entry(MONDAY, 7))

    stored = bucket.read(bucket.history_key)
    assert stored is not None
    assert [e.noncompliant_resources for e in decode(stored.body)] == [5, 7]


def test_a_corrupt_history_is_rebuilt_and_then_replaced_whole() -> None:
    bucket = _bucket()
    bucket.put(bucket.history_key, b"not a history\n", content_type="application/x-ndjson")
    store = HistoryStore(bucket)

    loaded = store.load(lambda: [entry(MONDAY - timedelta(weeks=1), 3)])

    assert loaded.how == "rebuilt"
    assert store.save(loaded, entry(MONDAY, 4))
    stored = bucket.read(bucket.history_key)
    assert stored is not None
    assert [e.noncompliant_resources for e in decode(stored.body)] == [3, 4]


def test_a_history_the_bucket_refuses_to_take_is_not_saved_and_the_run_goes_on() -> None:
    bucket = _bucket()
    store = HistoryStore(bucket)
    loaded = store.load(list)
    bucket.refuse_writes = 1

    assert not store.save(loaded, entry(MONDAY))
    assert bucket.read(bucket.history_key) is None
