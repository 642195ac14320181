"""The comparison's inputs going wrong: a corrupt previous snapshot, a corrupt history, a chosen baseline.

Each test publishes under its own S3 prefix of one small simulated organization, so they do not see
each other's runs. The runs' clock is set with CONFIG_REPORT_TESTING_NOW (see config_report.clock).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest

from config_report.simulated import SimulatedOrganization
from runner import Run, run_cli, run_process

LAST_WEEK, THIS_WEEK = "2026-11-23T09:00:00Z", "2026-11-30T09:00:00Z"


@pytest.fixture(scope="module")
def small_org(simulated_org: SimulatedOrganization) -> Iterator[SimulatedOrganization]:
    simulated_org.reset()
    simulated_org.seed(accounts=6, suspended=0, regions=("eu-west-1",))
    try:
        yield simulated_org
    finally:
        simulated_org.reset()
        simulated_org.seed()


def run_week(sim: SimulatedOrganization, prefix: str, when: str, **env: str) -> Run:
    return run_cli(sim, "run", CONFIG_REPORT_TESTING_NOW=when, CONFIG_REPORT_S3_PREFIX=prefix, **env)


def s3_key(run: Run, suffix: str) -> str:
    (name,) = [n for n in run.files if n.endswith(suffix)]
    return name


def events(run: Run, name: str) -> list[dict[str, Any]]:
    return [e for e in run.log_events() if e["event"] == name]


def put(sim: SimulatedOrganization, key: str, body: bytes) -> None:
    sim.client("s3").put_object(Bucket=sim.seeded.hub.report_bucket, Key=key, Body=body)


def get(sim: SimulatedOrganization, key: str) -> bytes:
    body: bytes = sim.client("s3").get_object(Bucket=sim.seeded.hub.report_bucket, Key=key)["Body"].read()
    return body


def summary_lines(run: Run) -> list[str]:
    return [str(row[0]) for row in run.sheet("Summary") if row and row[0]]


def test_a_corrupt_previous_snapshot_is_no_baseline_and_the_report_still_publishes(
    small_org: SimulatedOrganization,
) -> None:
    last = run_week(small_org, "corrupt-snapshot/", LAST_WEEK)
    put(small_org, s3_key(last, ".snapshot.json.gz"), b"\x1f\x8b this is not a snapshot")

    this = run_week(small_org, "corrupt-snapshot/", THIS_WEEK)

    assert (last.returncode, this.returncode) == (0, 0), this.stderr[-3000:]
    (why,) = [line for line in summary_lines(this) if line.startswith("No baseline:")]
    assert s3_key(last, ".snapshot.json.gz") in why
    assert "is not a usable snapshot: not a gzip JSON snapshot" in why
    (logged,) = events(this, "baseline.none")
    assert logged["level"] == "warning"
    assert "not a usable snapshot" in logged["reason"]
    rows = this.sheet("Non-compliant resources")[1:]
    assert rows
    assert {(row[9], str(row[10]), row[11]) for row in rows} == {("", "2026-11-30", 0.0)}
    assert len(this.sheet("Changes")) == 1


def test_a_snapshot_from_before_first_seen_dates_is_a_usable_baseline(
    small_org: SimulatedOrganization,
) -> None:
    last = run_week(small_org, "old-snapshot/", LAST_WEEK)
    key = s3_key(last, ".snapshot.json.gz")
    document = json.loads(gzip.decompress(get(small_org, key)))
    for finding in document["findings"]:
        del finding["first_seen"], finding["status"]
    del document["carried"]
    put(small_org, key, gzip.compress(json.dumps(document).encode()))

    this = run_week(small_org, "old-snapshot/", THIS_WEEK)

    assert this.returncode == 0, this.stderr[-3000:]
    assert events(this, "baseline.found")[0]["baseline_run_id"] == document["run"]["run_id"]
    rows = this.sheet("Non-compliant resources")[1:]
    assert {(row[9], str(row[10]), row[11]) for row in rows} == {("PERSISTING", "2026-11-23", 7.0)}


def test_a_corrupt_history_is_rebuilt_from_the_snapshots_and_says_so(
    small_org: SimulatedOrganization,
) -> None:
    last = run_week(small_org, "corrupt-history/", LAST_WEEK)
    history_key = "corrupt-history/history/runs.jsonl"
    (started,) = events(last, "history.started")
    assert started["reason"] == "missing"
    put(small_org, history_key, b'{"schema": "config-report/history/v1", "run_id": \n garbage')

    this = run_week(small_org, "corrupt-history/", THIS_WEEK)

    assert this.returncode == 0, this.stderr[-3000:]
    (rebuilt,) = events(this, "history.rebuilt")
    assert rebuilt["reason"].startswith("corrupt (line 1 is not a history line")
    assert rebuilt["runs"] == 1
    lines = [json.loads(line) for line in get(small_org, history_key).decode().splitlines()]
    assert [line["date"] for line in lines] == ["2026-11-23", "2026-11-30"]
    summary = this.sheet("Summary")
    (start,) = [n for n, row in enumerate(summary) if str(row[0]).startswith("Trend (last 12 weeks)")]
    assert [row[0] for row in summary[start + 1 : start + 3]] == [
        "2026-W48 (23 Nov 2026)",
        "2026-W49 (30 Nov 2026)",
    ]


def test_a_history_line_from_before_resources_were_counted_once_is_rebuilt_from_its_snapshot(
    small_org: SimulatedOrganization,
) -> None:
    last = run_week(small_org, "old-history/", LAST_WEEK)
    history_key = "old-history/history/runs.jsonl"
    (line,) = [json.loads(text) for text in get(small_org, history_key).decode().splitlines()]
    distinct = line["noncompliant_resources"]
    # As an earlier version wrote it: evaluations under `noncompliant_resources`, no `failing_evaluations`.
    old = {**line, "noncompliant_resources": line["failing_evaluations"] + 1000}
    del old["failing_evaluations"]
    put(small_org, history_key, (json.dumps(old) + "\n").encode())

    this = run_week(small_org, "old-history/", THIS_WEEK)

    assert this.returncode == 0, this.stderr[-3000:]
    summary = this.sheet("Summary")
    (start,) = [n for n, row in enumerate(summary) if str(row[0]).startswith("Trend (last 12 weeks)")]
    assert summary[start + 1][:2] == ["2026-W48 (23 Nov 2026)", distinct]
    first, _ = [json.loads(text) for text in get(small_org, history_key).decode().splitlines()]
    assert (first["run_id"], first["noncompliant_resources"]) == (line["run_id"], distinct)
    assert first["failing_evaluations"] == line["failing_evaluations"]
    assert last.returncode == 0


def test_an_explicit_baseline_replaces_the_previous_run(small_org: SimulatedOrganization) -> None:
    chosen = run_week(small_org, "explicit-a/", LAST_WEEK)
    uri = f"s3://{small_org.seeded.hub.report_bucket}/{s3_key(chosen, '.snapshot.json.gz')}"

    this = run_week(small_org, "explicit-b/", THIS_WEEK, CONFIG_REPORT_BASELINE=uri)

    assert this.returncode == 0, this.stderr[-3000:]
    assert events(this, "baseline.found")[0]["source"] == uri
    assert any(
        line.startswith("Compared with the run of 23 November 2026 09:00 UTC") for line in summary_lines(this)
    )


def test_a_baseline_file_that_does_not_exist_exits_2_naming_the_variable(
    small_org: SimulatedOrganization,
) -> None:
    done = run_process(small_org, "run", CONFIG_REPORT_BASELINE="/nonexistent/last-week.snapshot.json.gz")

    assert done.returncode == 2
    assert "CONFIG_REPORT_BASELINE (--baseline)" in done.stderr
    assert "is not a file" in done.stderr


def test_the_testing_clock_is_refused_against_anything_but_the_simulator(
    small_org: SimulatedOrganization,
) -> None:
    done = run_process(
        small_org,
        "run",
        CONFIG_REPORT_TESTING_NOW=THIS_WEEK,
        AWS_ENDPOINT_URL="https://s3.eu-west-1.amazonaws.com",
    )

    assert done.returncode == 2
    assert "CONFIG_REPORT_TESTING_NOW" in done.stderr
    assert "not a loopback address" in done.stderr
