"""Which accounts are in scope: include and exclude filters by account ID and by OU."""

from __future__ import annotations

import pytest

from config_report.domain.model import Account
from config_report.domain.scope import AccountFilter

ROOT = "r-ab12"
WORKLOADS = "ou-ab12-11111111"
PROD = "ou-ab12-22222222"

SECURITY = Account("011111111111", "security-tooling", "Security", (ROOT, "ou-ab12-33333333"))
PROD_APP = Account("222222222222", "payments-prod", "Workloads/Prod", (ROOT, WORKLOADS, PROD))
MANAGEMENT = Account("333333333333", "management", "Root", (ROOT,))
ALL = (SECURITY, PROD_APP, MANAGEMENT)


def admitted(account_filter: AccountFilter) -> set[str]:
    return {a.id for a in ALL if account_filter.admits(a)}


def test_no_filter_admits_every_account() -> None:
    assert admitted(AccountFilter()) == {a.id for a in ALL}


def test_an_account_list_admits_only_those_accounts() -> None:
    assert admitted(AccountFilter(accounts=frozenset({"011111111111"}))) == {"011111111111"}


def test_an_exclusion_wins_over_an_inclusion() -> None:
    both = AccountFilter(accounts=frozenset({"011111111111"}), exclude_accounts=frozenset({"011111111111"}))
    assert admitted(both) == set()


@pytest.mark.parametrize("ou", [WORKLOADS, "Workloads", "Workloads/Prod", "Prod", PROD])
def test_an_ou_given_by_id_name_or_path_includes_its_sub_ous(ou: str) -> None:
    assert admitted(AccountFilter(ous=frozenset({ou}))) == {PROD_APP.id}


def test_excluding_an_ou_drops_its_accounts_only() -> None:
    assert admitted(AccountFilter(exclude_ous=frozenset({"Security"}))) == {PROD_APP.id, MANAGEMENT.id}


def test_a_name_that_only_starts_like_an_ou_does_not_match() -> None:
    assert admitted(AccountFilter(ous=frozenset({"Work"}))) == set()
