"""Where a run reads compliance: each account's spoke role, or one AWS Config aggregator.

Both readers return the same `AccountScan`s in account order, so every later stage (owners, figures,
workbook, snapshot, changes, Jira) is the same whichever read them (`CONFIG_REPORT_SOURCE`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from config_report.aws.aggregator import AggregatorPlan, read_aggregator
from config_report.aws.scan import AccountCallback, ProgressCallback, ScanPlan, scan_organization
from config_report.aws.session import Hub
from config_report.domain.model import Account, AccountScan
from config_report.errors import SettingsError
from config_report.settings import SOURCE_AGGREGATOR, AggregatorConfig, ScanConfig


def read_compliance(
    accounts: Sequence[Account],
    *,
    source: str,
    hub: Hub,
    scan: ScanConfig,
    aggregator: AggregatorConfig | None,
    on_account_done: AccountCallback | None = None,
    on_unit_done: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> tuple[AccountScan, ...]:
    """Every account × region of `accounts`, read from `source` (`spokes` or `aggregator`)."""
    if source == SOURCE_AGGREGATOR:
        return read_aggregator(
            accounts,
            aggregator_plan(hub, scan, aggregator),
            on_account_done=on_account_done,
            on_unit_done=on_unit_done,
            stop=stop,
        )
    return scan_organization(
        accounts, ScanPlan(hub, scan), on_account_done=on_account_done, on_unit_done=on_unit_done, stop=stop
    )


def aggregator_plan(hub: Hub, scan: ScanConfig, aggregator: AggregatorConfig | None) -> AggregatorPlan:
    """How to read the aggregator; raises `SettingsError` when none is named."""
    if aggregator is None:
        raise SettingsError(
            "CONFIG_REPORT_AGGREGATOR_NAME (--aggregator-name) is not set; name the configuration "
            "aggregator to read"
        )
    return AggregatorPlan(hub, scan, aggregator)
