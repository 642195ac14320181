"""`config-report demo`: the real pipeline against the simulated organization, no AWS account needed.

The simulator (moto and the Config compliance APIs on 127.0.0.1) is an optional extra, imported only
here, so the production image never carries it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config_report.app.verify import verify
from config_report.errors import ExitCode
from config_report.logs import configure
from config_report.settings import ENV_PREFIX, SOURCE_AGGREGATOR, SOURCE_SPOKES, Source, load_settings

DEMO_SEED = 7
# Throttling the demo absorbs without losing a row: what a busy Monday morning looks like.
DEMO_THROTTLE_RATE = 0.1
# The seeder's regions plus an opt-in one, which only some accounts have enabled (REGION_NOT_ENABLED).
DEMO_REGIONS = ("eu-west-1", "us-east-1", "eu-central-1", "eu-south-2")
# Scanned too, but no account records there: the Summary says the organization does not use it.
DEMO_UNUSED_REGIONS = ("sa-east-1",)
# An account that deactivated STS in the hub's region: read through us-east-1, and its Coverage says so.
DEMO_STS_DEACTIVATED = "acme-payments-prod"


@contextmanager
def _isolated_environment() -> Iterator[None]:
    # The pipeline reads AWS settings the way production does, from the environment; the demo hides
    # the user's own AWS and CONFIG_REPORT_* variables (a profile, real keys) until it is done.
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("AWS_", ENV_PREFIX)):
            del os.environ[name]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What the demo shows besides a clean report: a denied spoke role, the aggregator source, and what
    can go wrong with an aggregator (a failed source, a lagging one)."""

    deny: bool = False
    source: Source = SOURCE_SPOKES
    failed_source: bool = False
    lagging_source: bool = False


def run_demo(*, accounts: int, output: str, options: DemoOptions = DemoOptions()) -> int:
    """Seed a simulated organization, run the pipeline through it, print the workbook's path.

    Through the aggregator, `verify` then compares it with the accounts and prints its verdict.
    """
    try:
        from config_report.simulated import SimulatedOrganization, evolve
    except ImportError:
        print(
            "config-report: the demo needs the simulated organization; install it with "
            "pip install 'config-report[demo]'",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    from config_report.app.run import run

    with _isolated_environment(), SimulatedOrganization() as simulator:
        seeded = simulator.seed(
            accounts=accounts, seed=DEMO_SEED, regions=DEMO_REGIONS, unused_regions=DEMO_UNUSED_REGIONS
        )
        os.environ.update(simulator.client_env())
        now = datetime.now(UTC)
        # Last week's run first, so this week's report already has a baseline, a Changes sheet and a trend.
        week = evolve.demo_week(simulator)
        evolve.before_last_week(simulator, week)
        print("replaying last week's run first…", flush=True)
        aliases = json.dumps(seeded.owner_aliases())
        quiet = load_settings(
            {"log_format": "auto", "log_level": "ERROR", "source": options.source, "owner_aliases": aliases}
        )
        run(quiet, as_json=configure(quiet.log_format, quiet.log_level), started_at=now - timedelta(days=7))
        if options.lagging_source:
            # The aggregator keeps last week's copy of the account whose resources get fixed this week.
            fixed = week.fixed[0]
            simulator.aggregator.lag(fixed.account_id, fixed.region, at=now - timedelta(hours=3))
        evolve.during_the_week(simulator, week, at=now)
        if options.failed_source:
            simulator.aggregator.fail(seeded.accounts[2].id, seeded.regions[0], at=now - timedelta(hours=5))

        denied = [seeded.accounts[-1].id] if options.deny else []
        simulator.faults.configure(
            config_throttle_rate=DEMO_THROTTLE_RATE,
            deny_assume_role_into=denied,
            sts_disabled_in=[(seeded.account_named(DEMO_STS_DEACTIVATED).id, seeded.hub.region)],
            seed=DEMO_SEED,
        )
        settings = load_settings(
            {
                "output_dir": str(Path(output).resolve()),
                "log_format": "auto",
                "source": options.source,
                "owner_aliases": aliases,
            }
        )
        as_json = configure(settings.log_format, settings.log_level)
        outcome = run(settings, as_json=as_json, started_at=now)
        if options.source == SOURCE_AGGREGATOR:
            print("comparing the aggregator with the accounts themselves (config-report verify)…", flush=True)
            verify(settings, as_json=as_json)
    workbook = outcome.published.workbook.local_path
    print(f"report: {workbook}")
    figures = outcome.report.figures
    print(
        f"{figures.accounts} accounts, {figures.rules_noncompliant} non-compliant rules, "
        f"{figures.noncompliant_resources} non-compliant resources ({figures.failing_evaluations} failing "
        f"evaluations), {figures.coverage_gaps} coverage gaps"
    )
    changes = outcome.report.changes
    if changes is not None and changes.baseline.usable:
        new, resolved = changes.new_resources, changes.resolved_resources
        print(f"since last week: {new} newly non-compliant resources, {resolved} no longer", end="")
        print(" (see the Changes sheet)")
    return int(outcome.exit_code)
