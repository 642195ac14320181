"""Publishing a run: SSE-KMS, the local copy, dry runs, the preflight marker and latest pointer, failed
uploads (the keys and write rules themselves: tests/store/test_bucket.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from config_report.simulated import SimulatedOrganization
from config_report.store.publish import new_run_id
from runner import run_cli


def test_run_ids_sort_by_start_time_and_are_unique_per_run() -> None:
    started = datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC)
    first, second = new_run_id(started), new_run_id(started)
    assert first != second
    assert re.fullmatch(r"20261130T090005Z-[0-9a-f]{6}", first)


def test_with_a_kms_key_every_file_is_encrypted_with_it(simulated_org: SimulatedOrganization) -> None:
    key_arn = simulated_org.client("kms").create_key(Description="config-report reports")["KeyMetadata"][
        "Arn"
    ]
    run = run_cli(
        simulated_org, "run", CONFIG_REPORT_S3_KMS_KEY_ID=key_arn, CONFIG_REPORT_ACCOUNTS=_one(simulated_org)
    )
    assert run.returncode == 0, run.stderr[-2000:]
    s3 = simulated_org.client("s3")
    for key in run.files:
        head = s3.head_object(Bucket=simulated_org.seeded.hub.report_bucket, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == key_arn


def test_the_local_copy_holds_the_same_files_as_s3(
    simulated_org: SimulatedOrganization, tmp_path: Path
) -> None:
    run = run_cli(
        simulated_org,
        "run",
        CONFIG_REPORT_OUTPUT_DIR=str(tmp_path),
        CONFIG_REPORT_ACCOUNTS=_one(simulated_org),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    local = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert local == {Path(key).name: body for key, body in run.files.items()}


def test_a_dry_run_scans_but_writes_nothing(simulated_org: SimulatedOrganization) -> None:
    run = run_cli(simulated_org, "run", "--dry-run", CONFIG_REPORT_ACCOUNTS=_one(simulated_org))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.files == {}
    events = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    (would,) = [e for e in events if e["event"] == "dry_run.would_upload"]
    assert {Path(k).name.split(".", 1)[1] for k in would["keys"]} == {
        "xlsx",
        "snapshot.json.gz",
        "manifest.json",
    }


def test_a_bucket_typo_fails_with_exit_1_before_any_config_call(simulated_org: SimulatedOrganization) -> None:
    simulated_org.faults.reset()
    run = run_cli(simulated_org, "run", CONFIG_REPORT_S3_BUCKET="no-such-report-bucket")
    assert run.returncode == 1
    assert simulated_org.faults.counts.config_requests == 0, "the bucket is proven before the scan"
    events = run.log_events()
    assert [e["event"] for e in events if e["event"].startswith(("preflight", "discovery", "run."))] == [
        "run.start",
        "preflight.failed",
        "run.failed",
    ]
    (error,) = [e for e in events if e["event"] == "run.failed"]
    assert "NoSuchBucket" in error["error"]
    assert "no-such-report-bucket does not exist: correct CONFIG_REPORT_S3_BUCKET" in error["error"]


def test_a_run_writes_its_preflight_marker_apart_from_the_reports_and_points_latest_at_them(
    simulated_org: SimulatedOrganization,
) -> None:
    simulated_org.faults.reset()
    run = run_cli(simulated_org, "run", CONFIG_REPORT_ACCOUNTS=_one(simulated_org))
    assert run.returncode == 0, run.stderr[-2000:]
    (marker,) = [k for k in run.markers if "/preflight/" in k]
    assert marker.startswith("aws-config-reports/preflight/")
    latest = json.loads(run.markers["aws-config-reports/latest.json"])
    bucket = simulated_org.seeded.hub.report_bucket
    assert set(latest["keys"].values()) == set(run.files)
    assert latest["files"]["workbook"] == f"s3://{bucket}/{latest['keys']['workbook']}"
    assert latest["coverage_complete"] is True
    (start,) = [e for e in run.log_events() if e["event"] == "run.start"]
    assert latest["run_id"] == start["run_id"]
    assert marker.endswith(f"/{start['run_id']}.txt")


def test_each_environment_publishes_under_its_own_prefix(simulated_org: SimulatedOrganization) -> None:
    simulated_org.faults.reset()
    run = run_cli(
        simulated_org, "run", CONFIG_REPORT_ENVIRONMENT="stg", CONFIG_REPORT_ACCOUNTS=_one(simulated_org)
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert all(key.startswith("aws-config-reports/stg/20") for key in run.files)
    assert {k.split("/")[2] for k in run.markers} == {"preflight", "latest.json", "history"}
    latest = json.loads(run.markers["aws-config-reports/stg/latest.json"])
    assert set(latest["keys"].values()) == set(run.files)


def test_without_a_kms_key_every_upload_asks_for_sse_s3(simulated_org: SimulatedOrganization) -> None:
    simulated_org.faults.reset()
    run = run_cli(simulated_org, "run", CONFIG_REPORT_ACCOUNTS=_one(simulated_org))
    assert run.returncode == 0, run.stderr[-2000:]
    s3 = simulated_org.client("s3")
    for key in [*run.files, *run.markers]:
        head = s3.head_object(Bucket=simulated_org.seeded.hub.report_bucket, Key=key)
        assert head["ServerSideEncryption"] == "AES256", key


def test_a_failed_upload_exits_1_and_says_the_report_is_lost_with_the_pod(
    simulated_org: SimulatedOrganization,
) -> None:
    bucket = simulated_org.seeded.hub.report_bucket
    simulated_org.faults.reset()
    # The marker goes through; the dated report folder is refused.
    simulated_org.faults.configure(deny_s3_put_into=[f"{bucket}/aws-config-reports/2"])
    try:
        run = run_cli(
            simulated_org,
            "run",
            CONFIG_REPORT_ACCOUNTS=_one(simulated_org),
            CONFIG_REPORT_UPLOAD_RETRY_SECONDS="3",  # the refusal is retried for this long, then reported
        )
    finally:
        simulated_org.faults.reset()
    assert run.returncode == 1
    assert not run.files
    assert "aws-config-reports/latest.json" not in run.markers, "latest.json never points at a failed run"
    events = run.log_events()
    (failed,) = [e for e in events if e["event"] == "publish.failed"]
    assert "disappear with the pod" in failed["lost"]
    assert "files_kept_in" not in failed
    (error,) = [e for e in events if e["event"] == "run.failed"]
    assert "AccessDenied" in error["error"]
    assert "grant the hub role s3:PutObject" in error["error"]


def _one(simulated_org: SimulatedOrganization) -> str:
    # One account keeps these publishing tests quick; the scan itself is proven in test_cli.
    return simulated_org.seeded.accounts[0].id
