"""The snapshot: gzip JSON that a program (or next week's run) reads back into the very same Report."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from config_report.domain.figures import finished
from config_report.domain.model import (
    Acceptance,
    AccountScan,
    Compliance,
    Coverage,
    CoverageStatus,
    EvaluationFlag,
    Finding,
    Owner,
    OwnerSource,
    Report,
    ResourceRecord,
    RuleInfo,
    RuleResult,
    SkippedRule,
    SkipReason,
)
from config_report.domain.shelved import shelf_of
from config_report.errors import PublishError
from config_report.store.snapshot import SCHEMA, read_snapshot, read_snapshot_bytes, write_snapshot
from config_report.store.spool import Spool
from factories import HOSTILE_STRINGS, PROD, finding, prod_scan, run_info, sample_report


def test_snapshot_reads_back_into_an_equal_report(tmp_path: Path) -> None:
    report = sample_report(
        extra_findings=[finding(PROD, "s3-bucket-public-read-prohibited", "b", annotation="x" * 40_000)]
    )

    assert read_snapshot(write_snapshot(finished(report), tmp_path / "snapshot.json.gz")) == finished(report)


def test_accepted_findings_keep_their_reason_ticket_and_expiry(tmp_path: Path) -> None:
    accepted = Acceptance("Public website", "SEC-1", date(2027, 3, 31))
    report = sample_report(
        extra_findings=[finding(PROD, "s3-bucket-public-read-prohibited", "www", accepted=accepted)]
    )

    read = read_snapshot(write_snapshot(finished(report), tmp_path / "snapshot.json.gz"))

    assert [f.accepted for f in read.findings() if f.accepted] == [accepted]
    assert read == finished(report)


def test_owners_account_owners_and_rule_facts_survive_the_round_trip(tmp_path: Path) -> None:
    prod = prod_scan()
    owned = replace(
        prod,
        account=replace(prod.account, owner="payments-leads"),
        rules=tuple(
            replace(r, info=RuleInfo("AWS", "ENCRYPTED_VOLUMES", "EBS encrypted")) for r in prod.rules
        ),
        findings=tuple(
            replace(
                f,
                owner=Owner(
                    "web",
                    OwnerSource.ACCOUNT_TAG,
                    ResourceRecord.DELETED,
                    deleted_at=datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
                ),
            )
            for f in prod.findings
        ),
    )
    report = Report(run=run_info(), scans=(owned,))

    assert read_snapshot(write_snapshot(finished(report), tmp_path / "snapshot.json.gz")) == finished(report)


def test_conformance_packs_and_packs_not_read_survive_the_round_trip(tmp_path: Path) -> None:
    prod = prod_scan()
    first, *others = prod.rules
    packed = replace(
        prod,
        rules=(
            replace(first, conformance_packs=("Operational-Best-Practices-for-CIS", "PCI")),
            *(replace(r, conformance_packs=None) for r in others),
        ),
    )
    report = Report(run=run_info(), scans=(packed,))

    read = read_snapshot(write_snapshot(finished(report), tmp_path / "snapshot.json.gz"))

    assert read == finished(report)
    assert [r.conformance_packs for r in read.rules()][:2] == [
        ("Operational-Best-Practices-for-CIS", "PCI"),
        None,
    ]


def test_snapshot_fetched_as_bytes_reads_back_into_an_equal_report(tmp_path: Path) -> None:
    report = sample_report()
    path = write_snapshot(finished(report), tmp_path / "snapshot.json.gz")

    assert read_snapshot_bytes(path.read_bytes()) == finished(report)


def test_rule_health_normalized_names_and_left_out_rules_read_back(tmp_path: Path) -> None:
    rule = RuleResult(
        PROD.id,
        "eu-west-1",
        "securityhub-s3-bucket-logging-enabled-nv6rb",
        Compliance("SOMETHING_NEW"),
        normalized_name="securityhub-s3-bucket-logging-enabled",
        created_by="securityhub.amazonaws.com",
        state="EVALUATING",
        read_status=CoverageStatus.ACCESS_DENIED,
        read_detail="GetComplianceDetailsByConfigRule: AccessDeniedException: denied",
        last_successful_evaluation=datetime(2026, 11, 1, tzinfo=UTC),
        last_failed_evaluation=datetime(2026, 11, 20, tzinfo=UTC),
        last_error_code="LambdaThrottled",
        evaluation_flag=EvaluationFlag.FAILED,
    )
    failing = Finding(PROD.id, "eu-west-1", rule.rule_name, "AWS::S3::Bucket", "b", normalized_name="x")
    skipped = SkippedRule(PROD.id, "eu-west-1", "old-rule", "old-rule", SkipReason.DELETING)
    coverage = Coverage(PROD.id, "eu-west-1", CoverageStatus.CONFIG_NOT_RECORDING, "stopped at …")
    report = Report(
        run=run_info(),
        scans=(AccountScan(PROD, (rule,), (failing,), (coverage,), (skipped,)),),
    )

    back = read_snapshot(write_snapshot(finished(report), tmp_path / "snapshot.json.gz"))

    assert back == finished(report)
    assert next(back.rules()).compliance.value == "SOMETHING_NEW"


def test_empty_organization_round_trips(tmp_path: Path) -> None:
    report = Report(run=run_info(), scans=())

    assert read_snapshot(write_snapshot(finished(report), tmp_path / "snapshot.json.gz")) == finished(report)


def test_snapshot_is_versioned_gzip_json_with_flat_lists_and_figures(tmp_path: Path) -> None:
    path = write_snapshot(sample_report(), tmp_path / "snapshot.json.gz")

    document = json.loads(gzip.decompress(path.read_bytes()))

    assert document["schema"] == SCHEMA == "config-report/snapshot/v1"
    assert list(document) == [
        "schema", "run", "figures", "accounts", "rules", "findings", "coverage", "skipped_rules", "carried"
    ]  # fmt: skip
    assert [a["id"] for a in document["accounts"]] == ["012345678901", "210987654321", "000000000042"]
    assert [a["status"] for a in document["accounts"]] == ["OK", "OK", "ACCESS_DENIED"]
    assert len(document["rules"]) == 6
    assert len(document["findings"]) == 4
    assert document["coverage"][-1]["status"] == "ACCESS_DENIED"
    assert document["figures"]["noncompliant_resources"] == 4
    assert document["figures"]["complete"] is False
    # No previous run: no change.
    assert document["figures"]["worst_rules"][0] == {
        "name": "restricted-ssh",
        "count": 2,
        "change": None,
        "severity": "UNRATED",
        "critical_high": None,
    }
    assert {f["annotation"] for f in document["findings"]} | {
        f["resource_id"] for f in document["findings"]
    } >= set(HOSTILE_STRINGS)


def test_times_are_written_as_iso_8601_utc(tmp_path: Path) -> None:
    path = write_snapshot(sample_report(), tmp_path / "snapshot.json.gz")

    document = json.loads(gzip.decompress(path.read_bytes()))

    assert document["run"]["started_at"] == "2026-11-23T09:00:00.000000Z"
    # The sandbox finding was evaluated at 10:00 in Paris (UTC+1).
    assert [f["last_evaluated"] for f in document["findings"]] == [
        "2026-11-22T17:45:12.000000Z",
        "2026-11-22T17:45:12.000000Z",
        None,
        "2026-11-22T09:00:00.000000Z",
    ]


def test_naive_times_are_taken_as_utc(tmp_path: Path) -> None:
    naive = finding(PROD, "restricted-ssh", "sg-1", last_evaluated=datetime(2026, 11, 22, 8, 30))
    report = sample_report(extra_findings=[naive])

    back = read_snapshot(write_snapshot(finished(report), tmp_path / "snapshot.json.gz"))

    assert next(f for f in back.findings() if f.resource_id == "sg-1").last_evaluated == datetime(
        2026, 11, 22, 8, 30, tzinfo=UTC
    )


def test_same_report_gives_byte_identical_snapshots(tmp_path: Path) -> None:
    first = write_snapshot(sample_report(), tmp_path / "first.json.gz")
    second = write_snapshot(sample_report(), tmp_path / "second.json.gz")

    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not gzip at all", "not a gzip JSON snapshot"),
        (gzip.compress(b'{"schema": "config-report/snapshot/v0"}'), "unsupported snapshot schema"),
        (gzip.compress(b"[1, 2]"), "unsupported snapshot schema"),
        (gzip.compress(json.dumps({"schema": SCHEMA, "accounts": []}).encode()), "malformed"),
        (gzip.compress(b"{truncated"), "not a gzip JSON snapshot"),
    ],
    ids=["not-gzip", "older-schema", "not-an-object", "missing-lists", "not-json"],
)
def test_anything_but_a_v1_snapshot_is_refused_with_a_value_error(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_snapshot_bytes(data)


def test_row_of_an_account_missing_from_the_accounts_list_is_refused(tmp_path: Path) -> None:
    path = write_snapshot(sample_report(), tmp_path / "snapshot.json.gz")
    document = json.loads(gzip.decompress(path.read_bytes()))
    document["accounts"] = document["accounts"][1:]

    with pytest.raises(ValueError, match="012345678901"):
        read_snapshot_bytes(gzip.compress(json.dumps(document).encode()))


def test_unwritable_destination_is_a_publish_error(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="could not write the snapshot"):
        write_snapshot(sample_report(), tmp_path / "missing-folder" / "snapshot.json.gz")


def test_a_snapshot_written_before_rules_carried_normalized_names_reads_back_normalized(
    tmp_path: Path,
) -> None:
    path = write_snapshot(sample_report(), tmp_path / "snapshot.json.gz")
    document = json.loads(gzip.decompress(path.read_bytes()))
    organization_rule = "OrgConfigRule-restricted-ssh-ab12cd"
    for row in (*document["rules"], *document["findings"]):
        del row["normalized_name"]
        if row["rule_name"] == "restricted-ssh":
            row["rule_name"] = organization_rule

    back = read_snapshot_bytes(gzip.compress(json.dumps(document).encode()))

    rules = [r.normalized_name for r in back.rules() if r.rule_name == organization_rule]
    findings = [f.normalized_name for f in back.findings() if f.rule_name == organization_rule]
    assert rules
    assert findings
    assert set(rules) | set(findings) == {"restricted-ssh"}


def test_an_owner_written_before_deletions_were_read_from_config_reads_back_as_not_recorded(
    tmp_path: Path,
) -> None:
    # Then `resource_deleted` said only that Config held no current item, not that it saw a deletion.
    report = replace(
        sample_report(),
        scans=tuple(
            replace(
                scan, findings=tuple(replace(f, owner=Owner("", OwnerSource.NONE)) for f in scan.findings)
            )
            for scan in sample_report().scans
        ),
    )
    path = write_snapshot(report, tmp_path / "snapshot.json.gz")
    document = json.loads(gzip.decompress(path.read_bytes()))
    for row in document["findings"]:
        del row["owner"]["record"], row["owner"]["deleted_at"]
        row["owner"]["resource_deleted"] = True

    back = read_snapshot_bytes(gzip.compress(json.dumps(document).encode()))

    records = {f.owner.record for f in back.findings() if f.owner is not None}
    assert records == {ResourceRecord.NOT_RECORDED}


def test_a_snapshot_read_onto_a_spool_keeps_its_rules_and_findings_there_and_reads_back_equal(
    tmp_path: Path,
) -> None:
    report = finished(sample_report())
    path = write_snapshot(report, tmp_path / "snapshot.json.gz")

    with Spool(tmp_path) as spool:
        read = read_snapshot(path, spool)

        assert all(shelf_of(scan.findings) is shelf_of(scan.rules) is spool for scan in read.scans)
        assert spool.chunks == sum(bool(scan.findings) + bool(scan.rules) for scan in read.scans)
        assert read == report


def test_a_snapshot_another_tool_laid_out_differently_reads_back_equal(tmp_path: Path) -> None:
    report = finished(sample_report())
    document = json.loads(gzip.decompress(write_snapshot(report, tmp_path / "snapshot.json.gz").read_bytes()))

    backwards = dict(reversed(document.items()))  # the accounts after the rows that name them
    for layout in (json.dumps(document, indent=2), json.dumps(document), json.dumps(backwards)):
        assert read_snapshot_bytes(gzip.compress(layout.encode())) == report


def test_a_truncated_snapshot_is_refused_with_a_value_error(tmp_path: Path) -> None:
    data = write_snapshot(sample_report(), tmp_path / "snapshot.json.gz").read_bytes()

    with pytest.raises(ValueError, match="not a gzip JSON snapshot"):
        read_snapshot_bytes(data[: len(data) // 2])


def test_a_finding_of_an_account_not_listed_is_refused_when_read_line_by_line(tmp_path: Path) -> None:
    text = gzip.decompress(write_snapshot(sample_report(), tmp_path / "snapshot.json.gz").read_bytes())
    # The account, its rules and coverage gone; its findings kept (the rows that name a resource).
    lines = [
        line for line in text.decode().split("\n") if "012345678901" not in line or '"resource_id"' in line
    ]

    with pytest.raises(ValueError, match="findings row for account 012345678901"):
        read_snapshot_bytes(gzip.compress("\n".join(lines).encode()))
