"""`config-report verify`: does the aggregator say what the accounts themselves say?

The way a team proves an aggregator before switching a deployment to `CONFIG_REPORT_SOURCE=aggregator`,
and keeps proving it: the same accounts (every one in scope, or the first N with `--sample N`) are read
both through their spoke roles and through the aggregator, and every difference is printed (missing
findings, different compliance, places or rules one source could not read, stale or failed aggregator
sources). Exit 0 only when the two agree; 1 when they differ. Nothing is published.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from config_report.app.sources import aggregator_plan, read_compliance
from config_report.aws.organization import list_active_accounts, organizations_client
from config_report.aws.session import Hub, connect_hub
from config_report.domain.agreement import Agreement, compare_sources
from config_report.domain.model import Account, AccountScan
from config_report.domain.scope import account_filter
from config_report.errors import ExitCode
from config_report.logs import get_logger
from config_report.render.terminal import Progress
from config_report.settings import SOURCE_AGGREGATOR, SOURCE_SPOKES, AggregatorConfig, ScanConfig, Settings


@dataclass(frozen=True, slots=True)
class Verified:
    """What `verify` compared, and how it ended."""

    agreement: Agreement
    accounts: int  # accounts compared
    in_scope: int  # accounts in scope

    @property
    def exit_code(self) -> ExitCode:
        """0 when the sources agree, 1 when they differ."""
        return ExitCode.OK if self.agreement.agree else ExitCode.FAILED


def verify(
    settings: Settings, *, as_json: bool, sample: int | None = None, out: TextIO = sys.stdout
) -> Verified:
    """Read the accounts in scope (or the first `sample`) both ways, print every difference and the verdict.

    Each read shows its progress as a run's scan does (`as_json`: `scan.progress` events, else a bar).

    Raises `SettingsError` when no aggregator is named, `DiscoveryError` when the organization cannot be
    listed, `ConfigReportError` when the hub has no credentials.
    """
    scan = settings.scan_config()
    aggregator = settings.aggregator_config()
    hub = connect_hub(settings.client_config())
    plan = aggregator_plan(hub, scan, aggregator)  # SettingsError when no aggregator is named
    accounts = list_active_accounts(organizations_client(hub, scan), account_filter(scan))
    chosen = accounts[:sample] if sample else accounts
    scope = (
        f"the first {len(chosen)} of {len(accounts)}"
        if len(chosen) < len(accounts)
        else f"all {len(accounts)}"
    )
    against = f"aggregator {plan.aggregator.name} ({plan.region}) against the spoke roles"
    print(f"verify: {against}, {scope} accounts in scope", file=out, flush=True)
    spokes, aggregated = (
        _read(chosen, source, hub=hub, scan=scan, aggregator=aggregator, as_json=as_json)
        for source in (SOURCE_SPOKES, SOURCE_AGGREGATOR)
    )
    agreement = compare_sources(spokes, aggregated)
    for difference in agreement.differences:
        print(f"DIFF  {difference.line()}", file=out)
    print(verdict(agreement), file=out, flush=True)
    verified = Verified(agreement, len(chosen), len(accounts))
    (get_logger().info if agreement.agree else get_logger().warning)(
        "verify.done",
        aggregator=plan.aggregator.name,
        accounts=len(chosen),
        accounts_in_scope=len(accounts),
        agree=agreement.agree,
        differences=len(agreement.differences),
        places_differing=agreement.places_differing,
        places_compared=agreement.places_compared,
        exit_code=int(verified.exit_code),
    )
    return verified


def _read(
    accounts: Sequence[Account],
    source: str,
    *,
    hub: Hub,
    scan: ScanConfig,
    aggregator: AggregatorConfig | None,
    as_json: bool,
) -> tuple[AccountScan, ...]:
    # Through the spokes, 400 accounts take a while: the same bar (or events) as a run's scan.
    with Progress(accounts=len(accounts), as_json=as_json) as progress:
        return read_compliance(
            accounts, source=source, hub=hub, scan=scan, aggregator=aggregator, on_unit_done=progress.update
        )


def verdict(agreement: Agreement) -> str:
    """The last line: agree, with how much was compared, or how many differences where."""
    compared = (
        f"{agreement.evaluations_compared:,} failing evaluation(s) and {agreement.rules_compared:,} rule "
        f"result(s) in {agreement.places_compared:,} account-region(s) read by both"
    )
    if agreement.agree:
        return f"AGREE: the aggregator and the accounts report the same {compared}"
    return (
        f"DIFFER: {len(agreement.differences):,} difference(s) in {agreement.places_differing:,} "
        f"account-region(s) ({compared}); the aggregator does not report what the accounts do"
    )
