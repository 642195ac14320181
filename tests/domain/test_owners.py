"""Owners: who should act on each finding, from its resource's tags, else its account's; and the
Summary's tables by owner and by OU."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from config_report.domain.figures import NO_OWNER, figures_of
from config_report.domain.model import (
    AccountScan,
    Compliance,
    Finding,
    Owner,
    OwnerSource,
    Report,
    ResourceRecord,
    RuleResult,
)
from config_report.domain.owners import (
    ResourceRecords,
    owner_from,
    with_account_owners,
    with_global_owners,
    with_owner_aliases,
    with_resource_owners,
)
from config_report.store.spool import Spool
from factories import PROD, SANDBOX, prod_scan, run_info, sandbox_scan

KEYS = ("Owner", "owner", "Team", "team")
RECORDED, DELETED, NOT_RECORDED = ResourceRecord.RECORDED, ResourceRecord.DELETED, ResourceRecord.NOT_RECORDED
DELETED_AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def test_the_first_owner_key_in_the_setting_order_wins_and_blank_values_do_not_count() -> None:
    assert owner_from({"team": "b", "Owner": "a"}, KEYS) == "a"
    assert owner_from({"Owner": "  ", "team": "b"}, KEYS) == "b"
    assert owner_from({"CostCenter": "x"}, KEYS) == ""


def _report_with_owners() -> Report:
    prod = prod_scan()
    prod = replace(
        prod,
        account=replace(PROD, owner="payments-leads"),
        findings=(
            replace(prod.findings[0], owner=Owner("web-team", OwnerSource.RESOURCE_TAG, RECORDED)),
            replace(prod.findings[1], owner=Owner("", OwnerSource.NONE, DELETED, deleted_at=DELETED_AT)),
            replace(prod.findings[2], owner=Owner("", OwnerSource.NONE, NOT_RECORDED)),
        ),
    )
    return Report(run=run_info(), scans=(prod, sandbox_scan()))


def test_a_finding_without_a_resource_owner_gets_the_accounts_and_says_why_its_resource_had_none() -> None:
    report = with_account_owners(_report_with_owners())

    owners = [f.owner for f in report.findings()]
    labels = [o.source_label() if o else None for o in owners]
    assert owners[0] == Owner("web-team", OwnerSource.RESOURCE_TAG, RECORDED)
    assert owners[1] == Owner("payments-leads", OwnerSource.ACCOUNT_TAG, DELETED, deleted_at=DELETED_AT)
    assert owners[2] == Owner("payments-leads", OwnerSource.ACCOUNT_TAG, NOT_RECORDED)
    assert labels[:3] == [
        "resource tag",
        "account tag (resource deleted on 2026-11-30)",
        "account tag (not recorded: AWS Config holds no configuration item for it)",
    ]
    assert owners[3] is None  # the sandbox has no account owner, and its finding was never looked up


def test_findings_that_name_the_same_owner_share_one_owner_on_the_spool_and_back(tmp_path: Path) -> None:
    # Thousands of findings name a few teams: one Owner each is held, and pickled once per chunk.
    findings = [
        Finding(PROD.id, "eu-west-1", "s3-bucket-ssl-requests-only", "AWS::S3::Bucket", name)
        for name in ("logs", "web", "gone", "untagged")
    ]
    records = ResourceRecords(
        tags={
            ("AWS::S3::Bucket", "logs"): {"Owner": "web-team"},
            ("AWS::S3::Bucket", "web"): {"team": "web-team"},
            ("AWS::S3::Bucket", "untagged"): {},
        },
        deleted={("AWS::S3::Bucket", "gone"): DELETED_AT},
    )
    owned = with_resource_owners(findings, records, KEYS)
    scan = replace(prod_scan(), account=replace(PROD, owner="payments-leads"), findings=owned)
    filled = list(with_account_owners(Report(run=run_info(), scans=(scan,))).findings())

    assert owned[0].owner is owned[1].owner
    assert owned[0].owner == Owner("web-team", OwnerSource.RESOURCE_TAG, RECORDED)
    assert filled[2].owner == Owner("payments-leads", OwnerSource.ACCOUNT_TAG, DELETED, deleted_at=DELETED_AT)
    assert filled[3].owner == Owner("payments-leads", OwnerSource.ACCOUNT_TAG, RECORDED)
    with Spool(tmp_path) as spool:
        back = spool.get(spool.put((*owned, *filled)))
    assert back == (*owned, *filled)
    assert back[0].owner is back[1].owner is back[4].owner


def _iam_user(region: str, owner: Owner | None) -> Finding:
    return Finding(PROD.id, region, "access-keys-rotated", "AWS::IAM::User", "alice", owner=owner)


def test_a_global_resource_takes_the_owner_read_where_config_records_it_in_every_region() -> None:
    recorded = Owner("identity-team", OwnerSource.RESOURCE_TAG, RECORDED)
    elsewhere = Owner("", OwnerSource.NONE, NOT_RECORDED)
    bucket = Finding(PROD.id, "us-east-1", "s3-x", "AWS::S3::Bucket", "logs", owner=elsewhere)
    findings = [_iam_user("eu-west-1", elsewhere), _iam_user("us-east-1", recorded), bucket]

    shared = with_global_owners(findings)

    assert [f.owner for f in shared] == [recorded, recorded, elsewhere]


def test_a_global_resource_deleted_where_it_was_recorded_is_deleted_in_every_region() -> None:
    gone = Owner("", OwnerSource.NONE, DELETED, deleted_at=DELETED_AT)
    unread = Owner("", OwnerSource.UNREAD, detail="AccessDenied")
    findings = [
        _iam_user("eu-west-1", Owner("", OwnerSource.NONE, NOT_RECORDED)),
        _iam_user("us-east-1", gone),
    ]

    assert [f.owner for f in with_global_owners([*findings, _iam_user("eu-central-1", unread)])] == [gone] * 3


def test_by_owner_counts_resources_and_accounts_but_no_compliant_share_it_cannot_know() -> None:
    report = with_account_owners(_report_with_owners())

    rows = {g.name: g for g in figures_of(report).by_owner}

    assert (rows["payments-leads"].noncompliant_resources, rows["payments-leads"].accounts) == (2, 1)
    assert (rows["web-team"].noncompliant_resources, rows[NO_OWNER].noncompliant_resources) == (1, 1)
    # Only the failing resources' owners are read: the share of an owner's resources that pass is unknown.
    assert rows["payments-leads"].compliant_share is None


def test_aliases_make_one_team_of_the_tag_values_that_name_it() -> None:
    report = with_owner_aliases(
        with_account_owners(_report_with_owners()), {"payments-leads": "payments", "web-team": "payments"}
    )

    rows = {g.name: g.noncompliant_resources for g in figures_of(report).by_owner}

    assert rows == {"payments": 3, NO_OWNER: 1}


def test_by_ou_tells_production_from_sandboxes() -> None:
    report = Report(
        run=run_info(),
        scans=(
            prod_scan(),
            AccountScan(
                account=SANDBOX,
                rules=(RuleResult(SANDBOX.id, "eu-west-1", "r", Compliance.NOT_APPLICABLE),),
            ),
        ),
    )

    rows = figures_of(report).by_ou

    assert [(g.name, g.noncompliant_resources, g.accounts) for g in rows] == [
        ("Workloads/Prod", 3, 1),
        ("Sandbox", 0, 1),
    ]
    assert rows[1].compliant_share is None
