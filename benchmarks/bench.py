"""`make bench`: the real `config-report run` against a uniform simulated organization, with latency.

    .venv/bin/python benchmarks/bench.py --accounts 200 --regions 3 --rules 20 --latency 0.1

The simulator (moto + the Config compliance APIs + the fault layer) runs in its own process, the job
in another, a raw-botocore baseline making the same calls in a third; nothing shares a GIL. Prints
one table: wall time, client CPU, peak RSS, calls by operation, throttles absorbed, and the ratios the
scale issue sets targets for, each beside its target. The simulator's own CPU use during the run is
printed too: one moto process saturates near 100 % of one core, so a figure well below that shows
the simulator was not the bottleneck.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

DEFAULT_REGIONS = ("eu-west-1", "us-east-1", "eu-central-1", "eu-north-1", "ap-southeast-2")
HUB_ACCESS_KEY = "testing"


# --- the simulator process ----------------------------------------------------------------------


def serve(args: argparse.Namespace) -> int:
    """Seed the organization, print it as one JSON line, then answer commands on stdin."""
    from config_report.simulated import SimulatedOrganization
    from config_report.simulated.scale import seed_scale_organization

    with SimulatedOrganization() as sim:
        started = time.perf_counter()
        org = seed_scale_organization(
            sim,
            accounts=args.accounts,
            regions=DEFAULT_REGIONS[: args.regions],
            rules=args.rules,
            resources_per_rule=args.resources,
            noncompliant_share=args.noncompliant,
        )
        _say(
            {
                "env": org.client_env(sim.endpoint_url, HUB_ACCESS_KEY),
                "accounts": [a.id for a in org.accounts],
                "needed": org.calls_needed(),
                "findings": org.noncompliant_resources,
                "seeding_s": round(time.perf_counter() - started, 1),
            }
        )
        sim.faults.configure(latency=args.latency, config_throttle_rate=args.throttle_rate, seed=1)
        for line in sys.stdin:
            if line.strip() != "counts":
                break
            usage = os.times()
            _say(
                {
                    "operations": sim.faults.operations,
                    "throttled": sim.faults.counts.throttled,
                    "cpu_s": usage.user + usage.system,
                }
            )
    return 0


def _say(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


class Simulator:
    """The simulator subprocess, and snapshots of what it saw."""

    def __init__(self, args: argparse.Namespace) -> None:
        command = [sys.executable, __file__, "simulator", *_size_args(args)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info = self._read()

    def counts(self) -> dict[str, Any]:
        """Requests by operation, throttles and CPU seconds so far."""
        assert self._process.stdin is not None
        self._process.stdin.write("counts\n")
        self._process.stdin.flush()
        return self._read()

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise SystemExit("the simulator process ended early")
        message: dict[str, Any] = json.loads(line)
        return message

    def close(self) -> None:
        """Stop the simulator process."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=60)


def _size_args(args: argparse.Namespace) -> list[str]:
    return [
        f"--accounts={args.accounts}",
        f"--regions={args.regions}",
        f"--rules={args.rules}",
        f"--resources={args.resources}",
        f"--noncompliant={args.noncompliant}",
        f"--latency={args.latency}",
        f"--throttle-rate={args.throttle_rate}",
    ]


# --- the raw-botocore baseline process ------------------------------------------------------------


def raw(args: argparse.Namespace) -> int:
    """The same Config calls with one botocore session and nothing else: the CPU-per-call baseline."""
    import botocore.session
    from botocore.config import Config

    session = botocore.session.get_session()
    config = Config(retries={"mode": "standard", "max_attempts": 12}, max_pool_connections=args.concurrency)
    sts = session.create_client("sts", config=config)
    regions = os.environ["CONFIG_REPORT_REGIONS"].split(",")
    accounts = args.only.split(",")

    def scan(unit: tuple[dict[str, str], str]) -> int:
        keys, region = unit
        client = session.create_client("config", region_name=region, config=config, **keys)
        client.describe_configuration_recorders()
        for _ in client.get_paginator("describe_config_rules").paginate():
            pass
        failing = []
        for page in client.get_paginator("describe_compliance_by_config_rule").paginate():
            for item in page["ComplianceByConfigRules"]:
                if item.get("Compliance", {}).get("ComplianceType") == "NON_COMPLIANT":
                    failing.append(item["ConfigRuleName"])
        for rule in failing:
            pages = client.get_paginator("get_compliance_details_by_config_rule").paginate(
                ConfigRuleName=rule, ComplianceTypes=["NON_COMPLIANT"], PaginationConfig={"PageSize": 100}
            )
            for _ in pages:
                pass
        return len(failing)

    def units() -> Iterator[tuple[dict[str, str], str]]:
        for account in accounts:
            creds = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/system-config-report-generator-read-role",
                RoleSessionName="raw-botocore",
            )["Credentials"]
            keys = {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            }
            for region in regions:
                yield keys, region

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(scan, units()))
    return 0


# --- running a process and measuring it ------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One child process: wall time, CPU seconds, peak RSS, the calls it made, its log."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    exit_code: int
    operations: dict[str, int]
    throttled: int
    simulator_cpu_s: float
    scan_s: float | None


def measure(sim: Simulator, command: list[str], env: dict[str, str]) -> Measured:
    """Run `command` with `env`; wall, CPU and peak RSS of that process alone, calls seen by the simulator."""
    before = sim.counts()
    started = time.perf_counter()
    with open(os.devnull, "w") as devnull, _log_file() as log:
        process = subprocess.Popen(command, env=env, stdout=devnull, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        log.seek(0)
        scan = _scan_seconds(log)
    after = sim.counts()
    operations = {
        op: after["operations"].get(op, 0) - before["operations"].get(op, 0) for op in after["operations"]
    }
    return Measured(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,
        exit_code=os.waitstatus_to_exitcode(status),
        operations={op: n for op, n in operations.items() if n},
        throttled=after["throttled"] - before["throttled"],
        simulator_cpu_s=after["cpu_s"] - before["cpu_s"],
        scan_s=scan,
    )


def _log_file() -> IO[str]:
    import tempfile

    return tempfile.TemporaryFile("w+")


def _scan_seconds(log: IO[str]) -> float | None:
    # From discovery done to the last account done, by the job's own JSON log timestamps.
    start = end = None
    for line in log:
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if event.get("event") == "discovery.done":
            start = datetime.fromisoformat(event["timestamp"])
        elif event.get("event") == "account.done":
            end = datetime.fromisoformat(event["timestamp"])
    return (end - start).total_seconds() if start and end else None


def job_env(sim: Simulator, **settings: str) -> dict[str, str]:
    """A clean environment for `config-report run` against the simulator."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_REPORT_"))}
    simulator: dict[str, str] = sim.info["env"]
    return base | simulator | {"CONFIG_REPORT_LOG_FORMAT": "json"} | settings


# --- the benchmark ----------------------------------------------------------------------------------


def bench(args: argparse.Namespace) -> int:
    """Seed, run the job (full size, then a subset at concurrency 1), the baseline; print the table."""
    sim = Simulator(args)
    try:
        accounts: list[str] = sim.info["accounts"]
        run = [sys.executable, "-m", "config_report", "run"]
        full = measure(sim, run, job_env(sim, CONFIG_REPORT_CONCURRENCY=str(args.concurrency)))
        subset = accounts[: args.subset]
        sequential = measure(
            sim, run, job_env(sim, CONFIG_REPORT_CONCURRENCY="1", CONFIG_REPORT_ACCOUNTS=",".join(subset))
        )
        baseline = measure(
            sim,
            [
                sys.executable,
                __file__,
                "raw",
                f"--concurrency={args.concurrency}",
                f"--only={','.join(accounts)}",
            ],
            job_env(sim),
        )
    finally:
        sim.close()
    print_table(args, sim.info, full, sequential, len(subset), baseline)
    return 0 if full.exit_code == 0 else 1


def print_table(
    args: argparse.Namespace,
    info: dict[str, Any],
    full: Measured,
    sequential: Measured,
    subset: int,
    baseline: Measured,
) -> None:
    """The one table: each figure beside its target, then the calls by operation."""
    needed: dict[str, int] = info["needed"]
    rows = [*_setup_rows(args, info, full), *_ratio_rows(args, needed, full, sequential, subset, baseline)]
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    print(f"{'figure'.ljust(width)}  {'measured'.ljust(value_width)}  target")
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value.ljust(value_width)}  {target}")
    print()
    made = full.operations
    op_width = max(len(op) for op in [*made, "calls by operation"])
    print(f"{'calls by operation'.ljust(op_width)}  {'made':>9}  {'needed':>9}")
    for op in sorted(made):
        expected = f"{needed[op]:,}" if op in needed else "-"
        print(f"{op.ljust(op_width)}  {made[op]:9,}  {expected:>9}")


def _setup_rows(args: argparse.Namespace, info: dict[str, Any], full: Measured) -> list[tuple[str, str, str]]:
    size = f"{args.accounts} accounts × {args.regions} regions × {args.rules} rules"
    return [
        ("organization", size, ""),
        ("account-regions (units)", f"{args.accounts * args.regions:,}", ""),
        ("non-compliant resources", f"{info['findings']:,}", ""),
        ("latency per call", f"{args.latency * 1000:.0f} ms", ""),
        ("concurrency", f"{args.concurrency}", ""),
        ("exit code", f"{full.exit_code}", "0"),
        ("wall time", f"{full.wall_s:.1f} s (scan phase {_fmt(full.scan_s)} s)", ""),
        ("client CPU", f"{full.cpu_s:.1f} s", ""),
        ("peak RSS", f"{full.peak_rss_mib:.0f} MiB", "≤ 400 MiB at 200,000 findings"),
        ("RSS per finding", _per_finding(full.peak_rss_mib, info["findings"]), ""),
        ("calls made", f"{sum(full.operations.values()):,}", ""),
        ("throttles absorbed", f"{full.throttled:,}", ""),
        (
            "simulator CPU during run",
            f"{full.simulator_cpu_s / full.wall_s:.0%} of one core",
            "well below 100 %",
        ),
        ("seeding (not in the figures)", f"{info['seeding_s']} s", ""),
    ]


def _ratio_rows(
    args: argparse.Namespace,
    needed: dict[str, int],
    full: Measured,
    sequential: Measured,
    subset: int,
    baseline: Measured,
) -> list[tuple[str, str, str]]:
    made = full.operations
    # S3 is publishing, not scanning: only the operations a scan needs are counted.
    counted = needed
    counted_made = sum(made.get(op, 0) for op in counted)
    counted_needed = sum(counted.values()) or 1
    calls = sum(made.values())
    ideal = calls * args.latency / args.concurrency
    seq_total = (sequential.scan_s or sequential.wall_s) * args.accounts / subset
    speedup = seq_total / (full.scan_s or full.wall_s)
    cpu_per_call = full.cpu_s / calls * 1000
    raw_per_call = baseline.cpu_s / (sum(baseline.operations.values()) or 1) * 1000
    ms = f"{args.latency * 1000:.0f} ms"
    return [
        (
            "calls made ÷ needed",
            f"{counted_made / counted_needed:.2f} ({counted_made:,} ÷ {counted_needed:,})",
            "1.00",
        ),
        ("latency-bound ideal", f"{ideal:.1f} s ({calls:,} calls × {ms} ÷ {args.concurrency})", ""),
        ("wall ÷ ideal", f"{_ratio(full.wall_s, ideal)} (scan phase {_ratio(full.scan_s, ideal)})", "≤ 1.3"),
        (
            "sequential (concurrency 1)",
            f"{_fmt(sequential.scan_s)} s for {subset} accounts → {seq_total:.0f} s",
            "",
        ),
        ("speedup ÷ concurrency", f"{speedup / args.concurrency:.2f} ({speedup:.1f}× faster)", "≥ 0.8"),
        ("client CPU per call", f"{cpu_per_call:.2f} ms (raw botocore {raw_per_call:.2f} ms)", ""),
        ("CPU per call ÷ raw botocore", f"{cpu_per_call / raw_per_call:.2f}", "≤ 1.25"),
    ]


def _fmt(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "?"


def _ratio(value: float | None, ideal: float) -> str:
    return f"{value / ideal:.2f}" if value is not None and ideal else "-"


def _per_finding(rss_mib: float, findings: int) -> str:
    return f"{rss_mib * 1024 / findings:.2f} KiB (whole process ÷ findings)" if findings else "-"


def main(argv: list[str] | None = None) -> int:
    """`bench.py [options]`; `simulator` and `raw` are the child processes it starts."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("role", nargs="?", default="bench", choices=("bench", "simulator", "raw"))
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--regions", type=int, default=3, help=f"1 to {len(DEFAULT_REGIONS)}")
    parser.add_argument("--rules", type=int, default=20)
    parser.add_argument("--resources", type=int, default=10, help="evaluated resources per rule")
    parser.add_argument("--noncompliant", type=float, default=0.3, help="share of them non-compliant")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every call")
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="share of Config calls throttled")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--subset", type=int, default=10, help="accounts scanned at concurrency 1")
    parser.add_argument("--only", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.regions <= len(DEFAULT_REGIONS):
        parser.error(f"--regions must be 1 to {len(DEFAULT_REGIONS)}")
    args.subset = max(1, min(args.subset, args.accounts))
    roles = {"bench": bench, "simulator": serve, "raw": raw}
    return roles[args.role](args)


if __name__ == "__main__":
    sys.exit(main())
