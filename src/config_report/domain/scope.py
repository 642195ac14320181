"""Which accounts a run covers: the account and OU filters of the settings, applied to discovered accounts."""

from __future__ import annotations

from dataclasses import dataclass

from config_report.domain.model import Account
from config_report.settings import ScanConfig


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


def account_filter(config: ScanConfig) -> AccountFilter:
    """The account and OU filters of the settings."""
    return AccountFilter(
        accounts=config.accounts,
        exclude_accounts=config.exclude_accounts,
        ous=config.ous,
        exclude_ous=config.exclude_ous,
    )
