"""Benchmark: the whole `run` pipeline against a simulated organization of N accounts.

    .venv/bin/python benchmarks/scan.py --accounts 100 --concurrency 16 --throttle-rate 0.2

Prints seeding time, scan and publish time, accounts per second, requests per second through the
simulator, throttled requests absorbed, and the process's peak memory. Figures depend on the machine;
on 2 cores the simulator (one moto server) is the bottleneck, not the scanner.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

from config_report.logs import configure
from config_report.pipeline import run
from config_report.settings import load_settings
from config_report.simulated import SimulatedOrganization


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--throttle-rate", type=float, default=0.0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    args = parser.parse_args()

    with SimulatedOrganization() as simulator, tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        seeded = simulator.seed(accounts=args.accounts)
        seeding = time.perf_counter() - started
        simulator.faults.configure(config_throttle_rate=args.throttle_rate, latency=args.latency, seed=1)
        os.environ.update(simulator.client_env())
        settings = load_settings({"concurrency": args.concurrency, "output_dir": out, "log_format": "json"})
        configure("json", "WARNING")
        before = simulator.faults.counts
        started = time.perf_counter()
        outcome = run(settings, as_json=True)
        elapsed = time.perf_counter() - started
        counts = simulator.faults.counts

    requests = counts.requests - before.requests
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = outcome.report.figures()
    print(f"accounts                {figures.accounts} ({len(seeded.regions)} regions each)")
    print(f"findings                {figures.noncompliant_resources}")
    print(f"seeding                 {seeding:8.1f} s")
    print(f"scan + report + upload  {elapsed:8.1f} s (exit code {outcome.exit_code})")
    print(f"accounts per second     {figures.accounts / elapsed:8.2f}")
    print(f"requests per second     {requests / elapsed:8.1f} ({requests} requests)")
    print(f"throttled and retried   {counts.throttled - before.throttled}")
    print(f"peak memory (process)   {peak_mb:8.0f} MB (simulator included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
