"""permissions.py is the one source of the IAM actions: the Terraform modules read what it generates."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name
from permissions import (
    MODULES_DIR,
    ROLE_WORDS,
    RUNBOOK,
    RUNBOOK_BEGIN,
    RUNBOOK_END,
    RUNBOOK_ORDER,
    Role,
    Targets,
    actions,
    actions_file,
    main,
    policy_document,
    stale_files,
    statements,
)

from config_report.settings import load_settings
from config_report.store.bucket import MemoryBucket
from config_report.store.publish import report_file_names

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = REPO_ROOT / "src" / "config_report"
REGENERATE = "run `.venv/bin/python tools/permissions.py --write` and commit the result"

HUB_TARGETS = Targets(
    scanner_role_arns=("arn:aws:iam::*:role/reader", "arn:aws:iam::999988887777:role/lister"),
    report_bucket="reports",
    report_prefix="weekly/",
)


def code_that_calls_aws() -> str:
    """The job's own source, without the simulated organization."""
    files = [p for p in SOURCE.rglob("*.py") if "simulated" not in p.parts]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def test_committed_actions_files_and_runbook_tables_match_what_permissions_py_declares() -> None:
    stale = stale_files(REPO_ROOT)
    assert not stale, f"stale {', '.join(str(p.relative_to(REPO_ROOT)) for p in stale)}: {REGENERATE}"


def copy_generated_files(root: Path) -> None:
    """The repository's generated files (and the runbook around its tables) under `root`."""
    shutil.copytree(REPO_ROOT / MODULES_DIR, root / MODULES_DIR)
    (root / RUNBOOK).parent.mkdir(parents=True)
    shutil.copy(REPO_ROOT / RUNBOOK, root / RUNBOOK)


def runbook_actions(text: str) -> dict[str, list[str]]:
    """The runbook's generated tables: each role's heading -> the actions its table lists."""
    block = text.split(RUNBOOK_BEGIN, 1)[1].split(RUNBOOK_END, 1)[0]
    tables: dict[str, list[str]] = {}
    heading = ""
    for line in block.splitlines():
        if line.endswith(":") and not line.startswith("|"):
            heading = line.removesuffix(":")
            tables[heading] = []
        elif match := re.match(r"^\| `([a-z0-9-]+:[A-Za-z0-9]+)` \|", line):
            tables[heading].append(match.group(1))
    return tables


def test_the_runbook_lists_exactly_the_actions_each_role_is_granted() -> None:
    # What a security reviewer reads and approves is what Terraform grants.
    tables = runbook_actions((REPO_ROOT / RUNBOOK).read_text(encoding="utf-8"))
    assert tables == {ROLE_WORDS[role]: list(actions(role)) for role in RUNBOOK_ORDER}
    assert set(RUNBOOK_ORDER) == set(Role)


def test_a_runbook_edited_by_hand_is_stale_and_write_mode_regenerates_its_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_generated_files(tmp_path)
    runbook = tmp_path / RUNBOOK
    # The mistake this catches: a list that names an action never granted and omits granted ones.
    original = runbook.read_text(encoding="utf-8")
    runbook.write_text(
        original.replace(
            "config:DescribeConfigurationRecorderStatus", "config:DescribeConfigurationRecorders"
        )
    )

    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert str(RUNBOOK) in capsys.readouterr().err
    assert main(["--write", "--root", str(tmp_path)]) == 0
    assert runbook.read_text(encoding="utf-8") == original


def test_check_mode_reports_a_stale_file_and_write_mode_repairs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_generated_files(tmp_path)
    spoke = tmp_path / MODULES_DIR / Role.SPOKE.value / "actions.json"
    spoke.write_text(spoke.read_text().replace("ec2:DescribeRegions", "ec2:*"))

    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert "--write" in capsys.readouterr().err
    assert main(["--write", "--root", str(tmp_path)]) == 0
    assert main(["--check", "--root", str(tmp_path)]) == 0
    assert spoke.read_text() == actions_file(Role.SPOKE)


def test_every_action_is_named_once_per_role_and_never_with_a_wildcard() -> None:
    for role in Role:
        names = actions(role)
        assert len(names) == len(set(names)), role
        assert all(re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+", name) for name in names), names
        sids = [s.sid for s in statements(role)]
        assert len(sids) == len(set(sids)), role


@pytest.mark.parametrize("role", list(Role))
def test_each_direct_action_is_a_real_api_operation_that_the_code_calls(role: Role) -> None:
    # A typo, or a call the code no longer makes, shows here before the least-privilege run.
    session = botocore.session.get_session()
    code = code_that_calls_aws()
    for statement in statements(role):
        for action in statement.actions:
            if not action.direct:
                continue
            service, operation = action.name.split(":")
            assert operation in session.get_service_model(service).operation_names, action.name
            assert xform_name(operation) in code, f"{action.name} is declared but no code calls it"


def test_only_what_aws_checks_on_the_callers_behalf_is_indirect() -> None:
    indirect = {a.name for role in Role for s in statements(role) for a in s.actions if not a.direct}
    assert indirect == {"kms:GenerateDataKey", "kms:Decrypt", "s3:ListBucket", "sts:TagSession"}


def test_the_spoke_org_and_aggregator_roles_are_read_only() -> None:
    # config:SelectResourceConfig (an advanced query) is of IAM's Read access level, like the others.
    for role in (Role.SPOKE, Role.ORG, Role.AGGREGATOR):
        assert all(re.match(r"[a-z0-9-]+:(Describe|Get|List|Select)", name) for name in actions(role)), role


def test_hub_policy_names_only_its_targets_and_leaves_out_what_is_not_configured() -> None:
    document = policy_document(Role.HUB, HUB_TARGETS)

    assert document["Statement"] == [
        {
            "Sid": "AssumeScannerRoles",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Resource": list(HUB_TARGETS.scanner_role_arns),
        },
        {
            "Sid": "WriteReports",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": ["arn:aws:s3:::reports/weekly/*"],
        },
        {
            "Sid": "ReadObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": ["arn:aws:s3:::reports/weekly/*"],
        },
        {
            "Sid": "ListEarlierReports",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": ["arn:aws:s3:::reports"],
            "Condition": {"StringLike": {"s3:prefix": ["weekly/*"]}},
        },
    ]


def test_hub_policy_with_a_key_decrypts_what_it_reads_with_that_key_only() -> None:
    key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    targets = Targets(HUB_TARGETS.scanner_role_arns, "reports", "weekly/", report_key_arn=key)
    by_sid = {s["Sid"]: s for s in policy_document(Role.HUB, targets)["Statement"]}

    assert by_sid["EncryptReports"]["Resource"] == [key]
    assert by_sid["DecryptReports"] == {
        "Sid": "DecryptReports",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [key],
    }


def test_the_hub_may_write_read_and_list_every_key_of_the_report_bucket() -> None:
    by_sid = {s["Sid"]: s for s in policy_document(Role.HUB, HUB_TARGETS)["Statement"]}
    config = load_settings({"s3_bucket": "reports", "s3_prefix": "weekly/"}).bucket_config()
    bucket = MemoryBucket(config)
    run_id = "20261123T090000Z-abcdef"
    folder = bucket.run_folder(datetime(2026, 11, 23, 9, tzinfo=UTC), run_id)
    keys = [
        folder + report_file_names(run_id).snapshot,
        bucket.part_key(folder, index=1, count=3),
        bucket.merge_claim_key(folder),
        bucket.preflight_key(run_id),
        bucket.latest_key,
        bucket.history_key,
        bucket.ticket_key("2026-W48"),
        bucket.shard_run_key("config-report-29412345"),
    ]

    for key in keys:
        assert fnmatch(f"arn:aws:s3:::reports/{key}", by_sid["WriteReports"]["Resource"][0]), key
        assert fnmatch(f"arn:aws:s3:::reports/{key}", by_sid["ReadObjects"]["Resource"][0]), key
        listable = by_sid["ListEarlierReports"]["Condition"]["StringLike"]["s3:prefix"][0]
        assert fnmatch(key, listable), key


def test_without_drops_one_action_and_an_emptied_statement() -> None:
    full = policy_document(Role.SPOKE, Targets())
    without = policy_document(Role.SPOKE, Targets(), without="ec2:DescribeRegions")

    assert {s["Sid"] for s in full["Statement"]} - {s["Sid"] for s in without["Statement"]} == {
        "ListEnabledRegions"
    }
    remaining = [a for s in without["Statement"] for a in s["Action"]]
    assert sorted(remaining) == sorted(set(actions(Role.SPOKE)) - {"ec2:DescribeRegions"})


def test_listing_shows_every_action_with_the_call_that_needs_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    listing = capsys.readouterr().out
    for role in Role:
        for statement in statements(role):
            for action in statement.actions:
                assert re.search(
                    rf"{re.escape(action.name)}\s+{statement.scope.value}\s+{re.escape(action.needed_by)}",
                    listing,
                )
