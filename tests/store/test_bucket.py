"""The report bucket's contract, held by both implementations: the bucket in the simulated S3, and the
one in memory that the stages' own tests use.

Create-only writes never overwrite, a replace writes over exactly the version read, one claim wins,
a missing object reads as None, and the key layout is the one DESIGN.md gives.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from config_report.aws.session import client_config
from config_report.settings import BucketConfig, load_settings
from config_report.simulated import SimulatedOrganization
from config_report.store.bucket import (
    MemoryBucket,
    ObjectChanged,
    ObjectExists,
    ReportBucket,
    S3Bucket,
    UnreadableObject,
    WriteFailed,
)
from config_report.store.publish import new_run_id, report_file_names

_prefixes = itertools.count(1)
STARTED = datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC)


class Sleeps(list[float]):
    """What the retries would have waited, instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture(params=["s3", "memory"])
def bucket(
    request: pytest.FixtureRequest,
    simulated_org: SimulatedOrganization,
    sleeps: Sleeps,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ReportBucket]:
    """A bucket under a prefix of this test's own (the shared simulator keeps its other objects)."""
    config = BucketConfig(
        bucket=simulated_org.seeded.hub.report_bucket,
        prefix=f"tests/bucket-{next(_prefixes)}/",
        kms_key_id=None,
        upload_retry_seconds=60,
    )
    if request.param == "memory":
        yield MemoryBucket(config, sleep=sleeps)
        return
    # The hub's session finds the simulator the way the CLI does: from the environment.
    for name, value in simulated_org.client_env().items():
        monkeypatch.setenv(name, value)
    simulated_org.faults.reset()
    settings = load_settings({"max_attempts": 1})
    config_for_clients = client_config(settings.client_config())
    yield S3Bucket(config, session=boto3.Session(), client_config=config_for_clients, sleep=sleeps)
    simulated_org.faults.reset()


def test_the_key_layout_is_the_one_the_design_gives(bucket: ReportBucket) -> None:
    run_id = new_run_id(STARTED)
    p = bucket.prefix

    assert bucket.run_folder(STARTED, run_id) == f"{p}2026/11/30/{run_id}/"
    assert report_file_names(run_id).workbook == f"aws-config-report-{run_id}.xlsx"
    assert bucket.preflight_key(run_id) == f"{p}preflight/{run_id}.txt"
    assert (bucket.latest_key, bucket.history_key) == (f"{p}latest.json", f"{p}history/runs.jsonl")
    assert bucket.ticket_key("2026-W49") == f"{p}jira/2026-W49.json"
    assert bucket.shard_run_key("weekly-1") == f"{p}shards/weekly-1.json"
    folder = bucket.run_folder(STARTED, run_id)
    assert bucket.part_key(folder, index=1, count=3) == f"{folder}parts/shard-0002-of-0003.snapshot.json.gz"
    assert bucket.merge_claim_key(folder) == f"{folder}parts/merge.claim"


def test_the_sharded_runs_are_listed_by_the_names_their_shards_share(bucket: ReportBucket) -> None:
    assert bucket.shard_run_names() == []
    for name in ("weekly-2", "weekly-1"):
        bucket.claim(bucket.shard_run_key(name), b"{}")
    # Not a run's claim: a stray object beside them is no run.
    bucket.put(bucket.prefix + "shards/notes.txt", b"", content_type="text/plain")

    assert bucket.shard_run_names() == ["weekly-1", "weekly-2"]


def test_a_created_key_is_never_overwritten(bucket: ReportBucket, tmp_path: Path) -> None:
    key = bucket.prefix + "report.xlsx"
    first = tmp_path / "first.xlsx"
    first.write_bytes(b"first")
    bucket.create(key, first, content_type="application/octet-stream")

    with pytest.raises(ObjectExists):
        bucket.create(key, b"second", content_type="application/octet-stream", retry=bucket.upload_retry)

    stored = bucket.read(key)
    assert stored is not None
    assert stored.body == b"first"


def test_exactly_one_claim_wins(bucket: ReportBucket) -> None:
    key = bucket.prefix + "claim.json"

    assert [bucket.claim(key, b'{"by": 1}'), bucket.claim(key, b'{"by": 2}')] == [True, False]
    assert bucket.fetch(key) == b'{"by": 1}'


def test_a_replace_writes_over_exactly_the_version_read(bucket: ReportBucket) -> None:
    key = bucket.prefix + "history.jsonl"
    bucket.replace(key, b"one\n", etag=None, content_type="application/x-ndjson")
    read = bucket.read(key)
    assert read is not None
    with pytest.raises(ObjectChanged):
        bucket.replace(key, b"other\n", etag=None, content_type="application/x-ndjson")

    bucket.replace(key, b"one\ntwo\n", etag=read.etag, content_type="application/x-ndjson")

    with pytest.raises(ObjectChanged):
        bucket.replace(key, b"stale\n", etag=read.etag, content_type="application/x-ndjson")
    assert bucket.fetch(key) == b"one\ntwo\n"


def test_a_put_replaces_and_a_missing_key_reads_as_none(bucket: ReportBucket) -> None:
    key = bucket.prefix + "latest.json"
    assert bucket.read(key) is None
    assert not bucket.exists(key)

    bucket.put(key, b"1", content_type="application/json")
    bucket.put(key, b"2", content_type="application/json")

    assert bucket.fetch(key) == b"2"
    assert bucket.exists(key)


def test_a_download_copies_an_object_larger_than_its_chunks_into_a_file(bucket: ReportBucket) -> None:
    key = bucket.prefix + "history/big.bin"
    body = bytes(range(256)) * (5 * 1024 * 1024 // 256 + 3)  # past several megabyte-sized pieces
    bucket.put(key, body, content_type="application/octet-stream")

    for where in (key, bucket.uri(key)):
        with tempfile.TemporaryFile() as local:
            bucket.download(where, local)
            local.seek(0)
            assert local.read() == body


def test_a_download_of_a_missing_key_or_a_bad_uri_says_what_could_not_be_read(bucket: ReportBucket) -> None:
    missing = bucket.prefix + "history/missing.bin"
    with tempfile.TemporaryFile() as local:
        with pytest.raises(UnreadableObject, match="NoSuchKey") as refused:
            bucket.download(missing, local)
        assert refused.value.action == "s3:GetObject"
        with pytest.raises(UnreadableObject, match="not an s3://bucket/key URI"):
            bucket.download("s3://no-key", local)


def test_snapshots_are_found_by_their_key_oldest_first_and_nothing_else_is(bucket: ReportBucket) -> None:
    ids = [new_run_id(datetime(2026, 11, day, 9, tzinfo=UTC)) for day in (30, 23)]
    for run_id in ids:
        name = report_file_names(run_id).snapshot
        bucket.put(bucket.run_folder(STARTED, run_id) + name, b"{}", content_type="application/gzip")
    bucket.put(bucket.prefix + "elsewhere/not-a-snapshot.json.gz", b"{}", content_type="application/gzip")

    found = bucket.snapshots()

    assert [s.run_id for s in found] == sorted(ids)
    assert all(s.uri == bucket.uri(s.key) for s in found)


def test_a_refused_upload_is_tried_again_with_backoff_until_it_is_taken(
    bucket: ReportBucket, simulated_org: SimulatedOrganization, sleeps: Sleeps
) -> None:
    key = bucket.prefix + "refused-twice.xlsx"
    if isinstance(bucket, MemoryBucket):
        bucket.refuse_writes = 2
    else:
        simulated_org.faults.configure(s3_put_refusals=2, s3_put_refusal="AccessDenied")

    bucket.create(key, b"report", content_type="application/octet-stream", retry=bucket.upload_retry)

    assert bucket.fetch(key) == b"report"
    assert sleeps == [1.0, 2.0]


def test_a_refusal_is_not_retried_when_only_outages_are(
    bucket: ReportBucket, simulated_org: SimulatedOrganization
) -> None:
    key = bucket.prefix + "marker.txt"
    if isinstance(bucket, MemoryBucket):
        bucket.refuse_writes = 1
    else:
        simulated_org.faults.configure(s3_put_refusals=1, s3_put_refusal="AccessDenied")

    with pytest.raises(WriteFailed) as refused:
        bucket.create(key, b"m", content_type="text/plain", retry=bucket.upload_retry, refusals=False)

    assert (refused.value.attempts, refused.value.passing) == (1, False)
    assert "AccessDenied" in refused.value.reason
    assert bucket.read(key) is None
