"""Owners: who should act on each finding, from its resource's tags, else its account's; and the
Summary's tables by owner and by OU."""

from __future__ import annotations

from dataclasses import replace

import pytest

from config_report.domain.figures import NO_OWNER, figures_of
from config_report.domain.model import (
    AccountScan,
    Compliance,
    Owner,
    OwnerSource,
    Report,
    RuleResult,
)
from config_report.domain.owners import owner_from, with_account_owners
from factories import PROD, SANDBOX, prod_scan, run_info, sandbox_scan

KEYS = ("Owner", "owner", "Team", "team")


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
            replace(prod.findings[0], owner=Owner("web-team", OwnerSource.RESOURCE_TAG)),
            replace(prod.findings[1], owner=Owner("", OwnerSource.NONE, resource_deleted=True)),
            replace(prod.findings[2], owner=Owner("", OwnerSource.NONE)),
        ),
    )
    return Report(run=run_info(), scans=(prod, sandbox_scan()))


def test_a_finding_without_a_resource_owner_gets_the_accounts_and_a_deleted_resource_says_so() -> None:
    report = with_account_owners(_report_with_owners())

    owners = [f.owner for f in report.findings()]
    assert owners[0] == Owner("web-team", OwnerSource.RESOURCE_TAG)
    assert owners[1] == Owner("payments-leads", OwnerSource.ACCOUNT_TAG, resource_deleted=True)
    assert owners[1] is not None
    assert owners[1].source_label() == "account tag (resource deleted: no configuration item)"
    assert owners[2] == Owner("payments-leads", OwnerSource.ACCOUNT_TAG)
    assert owners[3] is None  # the sandbox has no account owner, and its finding was never looked up


def test_by_owner_counts_resources_accounts_and_the_compliant_share_of_their_accounts() -> None:
    report = with_account_owners(_report_with_owners())

    rows = {g.name: g for g in figures_of(report).by_owner}

    assert (rows["payments-leads"].noncompliant_resources, rows["payments-leads"].accounts) == (2, 1)
    assert (rows["web-team"].noncompliant_resources, rows[NO_OWNER].noncompliant_resources) == (1, 1)
    # PROD: one compliant and two non-compliant rules (the fourth has insufficient data).
    assert rows["payments-leads"].compliant_share == pytest.approx(1 / 3)


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
