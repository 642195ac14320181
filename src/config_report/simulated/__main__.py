"""Run a seeded simulated organization until Ctrl-C: `python -m config_report.simulated --help`.

Prints the environment variables that point `config-report` at it, e.g.

    eval "$(python -m config_report.simulated --accounts 25 | grep ^export)"   # in another shell
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import time
from collections.abc import Sequence

from config_report.simulated.seed import DEFAULT_ACCOUNTS, DEFAULT_REGIONS, MIN_ACCOUNTS, SeededOrganization
from config_report.simulated.server import SimulatedOrganization


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m config_report.simulated",
        description="Serve a seeded simulated AWS organization on 127.0.0.1 until interrupted.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument(
        "--accounts", type=int, default=DEFAULT_ACCOUNTS, help=f"ACTIVE accounts (at least {MIN_ACCOUNTS})"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed: the same seed builds the same org")
    parser.add_argument(
        "--regions", default=",".join(DEFAULT_REGIONS), help="comma-separated regions (the first is home)"
    )
    parser.add_argument(
        "--throttle-rate", type=float, default=0.0, help="fraction 0..1 of Config calls that are throttled"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument(
        "--deny",
        action="append",
        default=[],
        metavar="ACCOUNT",
        help="account ID or name whose spoke role cannot be assumed (repeatable)",
    )
    return parser


def _account_ids(seeded: SeededOrganization, wanted: Sequence[str]) -> list[str]:
    ids = []
    for item in wanted:
        try:
            ids.append(seeded.account(item).id)
        except KeyError:
            ids.append(seeded.account_named(item).id)
    return ids


def main(argv: Sequence[str] | None = None) -> int:
    """Start, seed, print the environment, and serve until Ctrl-C."""
    # A shell starts background jobs with SIGINT ignored, and Python then keeps ignoring it: Ctrl-C
    # (or `kill -INT`) must stop the simulator however it was started.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = _parser()
    args = parser.parse_args(argv)
    regions = tuple(r.strip() for r in args.regions.split(",") if r.strip())
    with SimulatedOrganization(port=args.port) as sim:
        try:
            seeded = sim.seed(accounts=args.accounts, seed=args.seed, regions=regions)
            denied = _account_ids(seeded, args.deny)
            sim.faults.configure(
                latency=args.latency,
                config_throttle_rate=args.throttle_rate,
                deny_assume_role_into=denied,
                seed=args.seed,
            )
        except (KeyError, ValueError) as exc:
            parser.error(str(exc))
        # Ctrl-C is welcome from the moment "# Ctrl-C to stop" is printed, not only once waiting.
        with contextlib.suppress(KeyboardInterrupt):
            print(
                f"# simulated organization on {sim.endpoint_url}: {len(seeded.accounts)} active and "
                f"{len(seeded.suspended_accounts)} suspended accounts, "
                f"{len(seeded.findings)} non-compliant resources"
            )
            for name, value in sim.client_env().items():
                print(f"export {name}={shlex.quote(value)}")
            print("# Ctrl-C to stop", flush=True)
            # The kernel may hand SIGINT to a server thread, which never wakes a wait without a
            # timeout; waking twice a second lets the main thread raise KeyboardInterrupt.
            while True:
                time.sleep(0.5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
