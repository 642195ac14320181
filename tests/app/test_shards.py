"""Sharded runs end to end: pods of an Indexed Job (JOB_COMPLETION_INDEX) each scan a shard, one merges.

Each shard is a real `config-report run` subprocess against the simulated organization; the merged
report read back from S3 is compared with an unsharded run's. A shard killed mid-scan leaves its run to
the merge CronJob (`config-report merge --overdue`), which merges it once the deadline has passed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import pytest

from config_report.domain.model import Report
from config_report.domain.shards import shard_of
from config_report.simulated import SimulatedOrganization
from config_report.store.snapshot import read_snapshot_bytes
from runner import Run, run_cli, run_process

SHARDS = 3


@dataclass(frozen=True)
class Pod:
    """One finished shard process."""

    returncode: int
    stderr: str


# The shard pods and the S3 objects they wrote.
Sharded = tuple[list[Pod], dict[str, bytes]]


def _shard_env(sim: SimulatedOrganization, run_name: str, index: int) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_REPORT_"))}
    return (
        environment
        | sim.client_env()
        | {
            "CONFIG_REPORT_LOG_FORMAT": "json",
            "CONFIG_REPORT_SHARD_COUNT": str(SHARDS),
            "CONFIG_REPORT_RUN_NAME": run_name,
            "JOB_COMPLETION_INDEX": str(index),  # what Kubernetes sets in each pod of an Indexed Job
        }
    )


def _new_objects(sim: SimulatedOrganization, before: set[str]) -> dict[str, bytes]:
    s3 = sim.client("s3")
    bucket = sim.seeded.hub.report_bucket
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
        if o["Key"] not in before
    ]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def _keys(sim: SimulatedOrganization) -> set[str]:
    return set(_new_objects(sim, set()))


def _run_shards(
    sim: SimulatedOrganization, run_name: str, indexes: list[int], *, env: dict[str, str] | None = None
) -> list[Pod]:
    # All at once, as the Indexed Job's pods start: the merge claim must still pick exactly one.
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "config_report", "run"],
            env=_shard_env(sim, run_name, index) | (env or {}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in indexes
    ]
    outputs = [process.communicate(timeout=600) for process in processes]
    return [Pod(process.returncode, err) for process, (_, err) in zip(processes, outputs, strict=True)]


def _snapshot(files: dict[str, bytes]) -> Report:
    (name,) = [n for n in files if n.endswith(".snapshot.json.gz") and "/parts/" not in n]
    return read_snapshot_bytes(files[name])


@pytest.fixture(scope="module")
def sharded(simulated_org: SimulatedOrganization) -> Sharded:
    simulated_org.faults.reset()
    # A previous run, whichever tests ran before: the sharded run and the unsharded one it is compared
    # with then both have last week's report to compare with (Status, First Seen).
    assert run_cli(simulated_org, "run").returncode == 0
    before = _keys(simulated_org)
    processes = _run_shards(simulated_org, "config-report-29412345", list(range(SHARDS)))
    return processes, _new_objects(simulated_org, before)


def test_three_shards_publish_the_same_report_data_as_one_unsharded_run(
    simulated_org: SimulatedOrganization, sharded: Sharded
) -> None:
    processes, files = sharded
    assert [p.returncode for p in processes] == [0, 0, 0], [p.stderr[-2000:] for p in processes]
    unsharded = run_cli(simulated_org, "run")
    assert unsharded.returncode == 0, unsharded.stderr[-2000:]
    merged = _snapshot(files)
    single = _snapshot(unsharded.files)
    assert merged.scans == single.scans
    assert merged.run.run_id != single.run.run_id
    findings = [f for scan in merged.scans for f in scan.findings]
    assert findings
    assert all(f.status is not None for f in findings), "the merge compares with last week too"


def test_exactly_one_shard_merges_into_one_workbook_snapshot_and_manifest(
    sharded: Sharded,
) -> None:
    processes, files = sharded
    (manifest_key,) = [n for n in files if n.endswith(".manifest.json")]
    run_prefix = manifest_key.rsplit("/", 1)[0] + "/"
    # The run's files, as an unsharded run publishes them, and one part per shard beside them.
    in_run = [name.removeprefix(run_prefix) for name in files if name.startswith(run_prefix)]
    report_files = sorted(name.split(".", 1)[1] for name in in_run if not name.startswith("parts/"))
    assert report_files == ["manifest.json", "snapshot.json.gz", "xlsx"], sorted(files)
    parts = [name for name in in_run if name.startswith("parts/") and name.endswith(".snapshot.json.gz")]
    assert len(parts) == SHARDS
    merges = [e for p in processes for e in _events(p.stderr) if e["event"] == "merge.done"]
    assert len(merges) == 1


def test_each_shard_scans_only_its_own_accounts(
    simulated_org: SimulatedOrganization, sharded: Sharded
) -> None:
    _, files = sharded
    for name, data in files.items():
        if "/parts/" in name and name.endswith(".snapshot.json.gz"):
            index = int(name.rsplit("shard-", 1)[1][:4]) - 1
            accounts = sorted(scan.account.id for scan in read_snapshot_bytes(data).scans)
            expected = sorted(a.id for a in simulated_org.seeded.accounts if shard_of(a.id, SHARDS) == index)
            assert accounts == expected


def test_a_shard_that_never_reported_leaves_its_accounts_as_coverage_gaps_and_exit_3(
    simulated_org: SimulatedOrganization,
) -> None:
    simulated_org.faults.reset()
    run_name = "config-report-missing-shard"
    for process in _run_shards(simulated_org, run_name, [0, 2]):
        assert process.returncode == 0, process.stderr[-2000:]
    merged = run_cli(
        simulated_org, "merge", CONFIG_REPORT_SHARD_COUNT=str(SHARDS), CONFIG_REPORT_RUN_NAME=run_name
    )
    assert merged.returncode == 3, merged.stderr[-2000:]
    coverage = merged.sheet("Coverage")[1:]
    missing = {a.id for a in simulated_org.seeded.accounts if shard_of(a.id, SHARDS) == 1}
    gaps = {row[0] for row in coverage if row[3] == "ERROR"}
    assert gaps == missing
    details = {row[5] for row in coverage if row[0] in missing}
    assert details == {"shard 2 of 3 did not report (see that pod's log)"}
    accounts = {row[0]: row[3] for row in merged.sheet("Accounts")[1:]}
    assert set(accounts) == {a.id for a in simulated_org.seeded.accounts}


def test_a_shard_index_beyond_the_count_is_a_configuration_error(
    simulated_org: SimulatedOrganization,
) -> None:
    settings = {"CONFIG_REPORT_SHARD_COUNT": "3", "JOB_COMPLETION_INDEX": "3", "CONFIG_REPORT_RUN_NAME": "x"}
    done = run_process(simulated_org, "run", **settings)
    assert done.returncode == 2
    assert "CONFIG_REPORT_SHARD_INDEX" in done.stderr


def _events(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_a_run_whose_shard_was_killed_is_merged_after_the_deadline_without_a_person(
    simulated_org: SimulatedOrganization,
) -> None:
    simulated_org.faults.reset()
    run_name = "config-report-killed-shard"
    # A prefix of its own: the only sharded run the merge CronJob finds there is this one.
    prefix = {"CONFIG_REPORT_S3_PREFIX": "tests/killed-shard/", "CONFIG_REPORT_SHARD_COUNT": str(SHARDS)}
    killed = _killed_mid_scan(simulated_org, run_name, index=1, env=prefix)
    assert killed.returncode == -signal.SIGKILL
    survivors = _run_shards(simulated_org, run_name, [0, 2], env=prefix)
    assert [p.returncode for p in survivors] == [0, 0], [p.stderr[-2000:] for p in survivors]
    assert not [e for p in survivors for e in _events(p.stderr) if e["event"] == "merge.done"]

    # Before the deadline the merge CronJob leaves the run alone: shard 2 might still report.
    early = run_cli(
        simulated_org, "merge", "--overdue", **prefix, CONFIG_REPORT_MERGE_DEADLINE_SECONDS="3600"
    )
    assert early.returncode == 0, early.stderr[-2000:]
    assert not early.files
    assert "merge.none_due" in [e["event"] for e in early.log_events()]

    merged = _merge_cronjob_until_merged(
        simulated_org, prefix | {"CONFIG_REPORT_MERGE_DEADLINE_SECONDS": "5"}
    )
    assert merged.returncode == 3, merged.stderr[-2000:]
    (overdue,) = [e for e in merged.log_events() if e["event"] == "merge.overdue"]
    assert (overdue["run_name"], overdue["missing_shards"]) == (run_name, [2])
    coverage = merged.sheet("Coverage")[1:]
    missing = {a.id for a in simulated_org.seeded.accounts if shard_of(a.id, SHARDS) == 1}
    assert {row[0] for row in coverage if row[3] == "ERROR"} == missing
    assert {row[5] for row in coverage if row[0] in missing} == {
        "shard 2 of 3 did not report (see that pod's log)"
    }
    assert {row[0] for row in merged.sheet("Accounts")[1:]} == {a.id for a in simulated_org.seeded.accounts}
    latest = json.loads(merged.markers["tests/killed-shard/latest.json"])
    assert latest["run_id"] == overdue["run_id"]

    # The next schedule finds nothing left to merge.
    again = run_cli(simulated_org, "merge", "--overdue", **prefix, CONFIG_REPORT_MERGE_DEADLINE_SECONDS="5")
    assert (again.returncode, again.files) == (0, {}), again.stderr[-2000:]


def _killed_mid_scan(
    sim: SimulatedOrganization, run_name: str, *, index: int, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Shard `index` started alone, SIGKILLed (as an OOM kill or a lost node does) while it waits on AWS
    Config: every Config call stalls, so it cannot have written its part."""
    sim.faults.configure(stalls=100_000, stall_seconds=30)
    shard = subprocess.Popen(
        [sys.executable, "-m", "config_report", "run"],
        env=_shard_env(sim, run_name, index) | env | {"CONFIG_REPORT_READ_TIMEOUT": "120"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sim.faults.wait_for(lambda counts: counts.stalls >= 1)
    finally:
        shard.send_signal(signal.SIGKILL)
        shard.wait(timeout=60)
        sim.faults.reset()
    return subprocess.CompletedProcess(shard.args, shard.returncode)


def _merge_cronjob_until_merged(sim: SimulatedOrganization, env: dict[str, str]) -> Run:
    """What the chart's merge CronJob does on its schedule: `merge --overdue`, until one merged the run.

    Polled, not timed: each pass either finds the run not yet due (exit 0, nothing written) or merges
    it; the 10 minutes only stop a broken test from hanging.
    """
    give_up = time.monotonic() + 600
    while time.monotonic() < give_up:
        sweep = run_cli(sim, "merge", "--overdue", **env)
        if sweep.files:
            return sweep
        assert sweep.returncode == 0, sweep.stderr[-2000:]
        time.sleep(1)  # between passes only: the outcome is read from S3, never assumed from the time
    raise AssertionError("the merge CronJob never merged the run")
