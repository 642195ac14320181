"""Sharding: which pod of a Kubernetes Indexed Job scans which accounts, and one report from their parts.

Shard `index` of `count` scans the accounts whose ID modulo the count is its index: a stable choice that
needs no shared list and does not move an account when others join or leave. The parts are merged in
discovery order; the accounts of a shard that never reported become coverage gaps naming it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from config_report.domain.model import (
    ALL_REGIONS,
    Account,
    AccountScan,
    Coverage,
    CoverageStatus,
    Report,
    RunInfo,
)


@dataclass(frozen=True, slots=True)
class Shard:
    """One shard of a run: `index` (from 0, as Kubernetes counts) of `count`."""

    index: int
    count: int

    def owns(self, account: Account) -> bool:
        """True when this shard scans `account` (its ID modulo the shard count)."""
        return shard_of(account.id, self.count) == self.index

    @property
    def label(self) -> str:
        """`shard 2 of 3`, counting from 1 as people do."""
        return f"shard {self.index + 1} of {self.count}"


def shard_of(account_id: str, count: int) -> int:
    """The shard (from 0) that scans `account_id` when a run has `count` shards."""
    return int(account_id) % count


def merged_report(
    run: RunInfo,
    accounts: Sequence[Account],
    parts: Mapping[int, Report],
    *,
    count: int,
    regions: Sequence[str],
) -> Report:
    """One report from the shards' parts, in discovery order; accounts no part covers become gaps."""
    scans: dict[str, AccountScan] = {s.account.id: s for part in parts.values() for s in part.scans}
    merged = []
    for account in accounts:
        scan = scans.get(account.id)
        if scan is None:
            shard = Shard(shard_of(account.id, count), count)
            detail = f"{shard.label} did not report (see that pod's log)"
            rows = tuple(
                Coverage(account.id, region, CoverageStatus.ERROR, detail)
                for region in (regions or (ALL_REGIONS,))
            )
            scan = AccountScan(account=account, coverage=rows)
        merged.append(scan)
    return Report(run=run, scans=tuple(merged))
