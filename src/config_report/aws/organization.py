"""Discovery: the organization's ACTIVE accounts with their names and OU, filtered by settings.

The tree is walked from the root (ListRoots → ListOrganizationalUnitsForParent → ListAccountsForParent),
which costs one call per OU rather than one ListParents call per account.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config_report.aws.session import describe_error, is_access_denied
from config_report.domain.model import Account
from config_report.errors import DiscoveryError


@dataclass(frozen=True, slots=True)
class AccountFilter:
    """Which accounts are in scope: include lists (empty = all) and exclude lists, by ID and OU."""

    accounts: frozenset[str] = frozenset()
    exclude_accounts: frozenset[str] = frozenset()
    ous: frozenset[str] = frozenset()
    exclude_ous: frozenset[str] = frozenset()

    def admits(self, account: Account) -> bool:
        """True when the account passes every include and exclude rule."""
        if self.accounts and account.id not in self.accounts:
            return False
        if account.id in self.exclude_accounts:
            return False
        if self.ous and not any(_in_ou(account, ou) for ou in self.ous):
            return False
        return not any(_in_ou(account, ou) for ou in self.exclude_ous)


def _in_ou(account: Account, ou: str) -> bool:
    """An OU given by ID, by name, or by path matches the account's OU and every OU above it."""
    if ou in account.ou_ids:
        return True
    path = account.ou.split("/")
    return ou in path or account.ou == ou or account.ou.startswith(ou.rstrip("/") + "/")


def list_active_accounts(organizations: Any, account_filter: AccountFilter) -> list[Account]:
    """Every ACTIVE account in scope, sorted by ID; raises `DiscoveryError` when listing fails."""
    try:
        roots = organizations.list_roots()["Roots"]
        accounts = [a for root in roots for a in _walk(organizations, root["Id"], (), (root["Id"],))]
    except (ClientError, BotoCoreError) as exc:
        # Denied needs a fix; anything else (throttling, 5xx) outlasted the retries and may pass.
        fix = (
            "check CONFIG_REPORT_ORG_ROLE_ARN and that role's organizations:List* permissions"
            if is_access_denied(exc)
            else "AWS Organizations kept failing through CONFIG_REPORT_MAX_ATTEMPTS attempts; nothing "
            "was published and the Job's next attempt starts over"
        )
        raise DiscoveryError(
            f"cannot list the organization's accounts ({describe_error(exc)}); {fix}"
        ) from exc
    return sorted((a for a in accounts if account_filter.admits(a)), key=lambda a: a.id)


def _walk(organizations: Any, parent: str, names: tuple[str, ...], ids: tuple[str, ...]) -> Iterator[Account]:
    ou_label = "/".join(names) or "Root"
    for page in organizations.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
        for raw in page["Accounts"]:
            # `State` replaces the deprecated `Status`; accept whichever the API returns.
            if (raw.get("State") or raw.get("Status")) == "ACTIVE":
                yield Account(
                    id=raw["Id"],
                    name=raw.get("Name", ""),
                    ou=ou_label,
                    ou_ids=ids,
                    email=raw.get("Email", ""),
                )
    for page in organizations.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent):
        for ou in page["OrganizationalUnits"]:
            yield from _walk(organizations, ou["Id"], (*names, ou["Name"]), (*ids, ou["Id"]))
