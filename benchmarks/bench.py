"""`make bench`: the real `config-report run` against a uniform simulated organization, with latency.

    .venv/bin/python benchmarks/bench.py --accounts 200 --regions 3 --rules 20 --latency 0.1
    .venv/bin/python benchmarks/bench.py --sources --accounts 1000   # spokes and aggregator side by side
    .venv/bin/python benchmarks/bench.py --rounds 3 --accounts 300   # CPU per call ÷ raw, as a median

The simulator (moto + the Config compliance APIs + the fault layer) runs in its own process, the job
in another, a raw-botocore baseline making the same calls in a third; nothing shares a GIL. Prints
one table: wall time, client CPU, peak RSS, calls by operation, throttles absorbed, and the ratios the
scale issue sets targets for, each beside its target. The simulator's own CPU use during the run is
printed too: one moto process saturates near 100 % of one core, so a figure well below that shows
the simulator was not the bottleneck.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Any

_SIMULATOR_CORE, _JOB_CORE = 0, 1  # two Python processes sharing two cores thrash (see `_pin`)
DEFAULT_REGIONS = ("eu-west-1", "us-east-1", "eu-central-1", "eu-north-1", "ap-southeast-2")
HUB_ACCESS_KEY = "testing"


# --- the simulator process ----------------------------------------------------------------------


def serve(args: argparse.Namespace) -> int:
    """Seed the organization, print it as one JSON line, then answer commands on stdin."""
    from config_report.aws.aggregator import TAGS_QUERY
    from config_report.aws.tags import resource_queries
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
                "needed": org.calls_needed(resource_queries),
                "needed_through_aggregator": {
                    mode: org.calls_needed_through_aggregator(
                        partial(resource_queries, select=TAGS_QUERY), query=mode == "query"
                    )
                    for mode in ("details", "query")
                },
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

    def __init__(self, args: argparse.Namespace, *, core: int | None = None) -> None:
        command = [sys.executable, __file__, "simulator", *_size_args(args)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        _pin(self._process.pid, core)
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
    """The job's AWS calls, made with plain botocore and nothing else: the CPU-per-call baseline.

    Exactly the calls the job makes (the simulator counts both, and the table says when they differ),
    with the same client-making pattern: one client per account × region. Nothing is kept or
    written: what the job costs beyond this is its own. Prints its CPU seconds after start-up.
    """
    import botocore.session
    from botocore.config import Config

    from config_report.aws.tags import resource_queries

    if args.freeze:
        gc.freeze()  # as `config-report run` does once its modules are imported (cli._settle_imports)
    started = time.process_time()
    session = botocore.session.get_session()
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 12}, max_pool_connections=args.concurrency
    )
    sts = session.create_client("sts", config=config)
    sts.get_caller_identity()
    org = session.create_client(
        "organizations", config=config, **_assumed(sts, os.environ["CONFIG_REPORT_ORG_ROLE_ARN"])
    )
    accounts = [a for root in org.list_roots()["Roots"] for a in _raw_accounts(org, root["Id"])]
    regions = os.environ["CONFIG_REPORT_REGIONS"].split(",")

    def account_tags(account: str) -> None:
        for _ in org.get_paginator("list_tags_for_resource").paginate(ResourceId=account):
            pass

    def scan(keys: dict[str, str], region: str) -> None:
        client = session.create_client("config", region_name=region, config=config, **keys)
        client.describe_configuration_recorder_status()
        creators = [
            rule.get("CreatedBy")
            for page in client.get_paginator("describe_config_rules").paginate()
            for rule in page["ConfigRules"]
        ]
        failing = [
            item["ConfigRuleName"]
            for page in client.get_paginator("describe_compliance_by_config_rule").paginate()
            for item in page["ComplianceByConfigRules"]
            if item.get("Compliance", {}).get("ComplianceType") == "NON_COMPLIANT"
        ]
        for _ in client.get_paginator("describe_config_rule_evaluation_status").paginate(
            PaginationConfig={"PageSize": 50}
        ):
            pass
        resources = set()
        for rule in failing:
            for page in client.get_paginator("get_compliance_details_by_config_rule").paginate(
                ConfigRuleName=rule, ComplianceTypes=["NON_COMPLIANT"], PaginationConfig={"PageSize": 100}
            ):
                for result in page["EvaluationResults"]:
                    qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
                    if qualifier["ResourceType"] != "AWS::::Account":
                        resources.add(qualifier["ResourceId"])
        for expression in resource_queries(resources):
            pages = client.get_paginator("select_resource_config").paginate(
                Expression=expression, PaginationConfig={"PageSize": 100}
            )
            for _ in pages:
                pass
        if "config-conforms.amazonaws.com" in creators:
            _raw_packs(client)

    def scan_account(account: str) -> None:
        keys = _assumed(sts, f"arn:aws:iam::{account}:role/system-config-report-generator-read-role")
        for region in regions:
            scan(keys, region)

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(account_tags, accounts))
        list(pool.map(scan_account, accounts))
    _say({"cpu_s": time.process_time() - started})
    return 0


def _raw_packs(client: Any) -> None:
    """The region's conformance packs, 20 a page, and each pack's rules, 1,000 a page."""
    packs = client.get_paginator("describe_conformance_packs").paginate(PaginationConfig={"PageSize": 20})
    for page in packs:
        for pack in page["ConformancePackDetails"]:
            rules = client.get_paginator("describe_conformance_pack_compliance").paginate(
                ConformancePackName=pack["ConformancePackName"], PaginationConfig={"PageSize": 1000}
            )
            for _ in rules:
                pass


def _assumed(sts: Any, arn: str) -> dict[str, str]:
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="raw-botocore")["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def _raw_accounts(org: Any, parent: str) -> Iterator[str]:
    for page in org.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
        yield from (a["Id"] for a in page["Accounts"] if a.get("State", a.get("Status")) == "ACTIVE")
    for page in org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent):
        for ou in page["OrganizationalUnits"]:
            yield from _raw_accounts(org, ou["Id"])


# --- running a process and measuring it ------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """A moment of a child process: seconds since it started, its CPU seconds, the simulator's counts."""

    at_s: float
    cpu_s: float
    counts: dict[str, Any]


@dataclass(frozen=True)
class Measured:
    """One child process: wall time, CPU seconds, peak RSS, the calls it made, its scan phase."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    exit_code: int
    operations: dict[str, int]
    throttled: int
    simulator_cpu_s: float
    load: tuple[float, float]  # the machine's 1-minute load average when it started and ended
    scan_start: Mark | None = None  # discovery done
    scan_end: Mark | None = None  # the last account done
    started_up: Mark | None = None  # the preflight marker written: settings, hub and bucket proven
    reported: dict[str, Any] = field(default_factory=dict)  # the JSON line the child printed, if any
    done: dict[str, Any] = field(default_factory=dict)  # the job's run.done event, if it logged one

    @property
    def calls(self) -> int:
        """Every request the simulator saw from this process."""
        return sum(self.operations.values())

    @property
    def cpu_per_call_ms(self) -> float:
        """Client CPU milliseconds per request the simulator saw (whole process: start-up included)."""
        return self.cpu_s / (self.calls or 1) * 1000

    @property
    def scan_s(self) -> float | None:
        """Wall seconds of the scan phase (discovery done to the last account done)."""
        return self.scan_end.at_s - self.scan_start.at_s if self.scan_start and self.scan_end else None

    def scan_delta(self, what: str) -> float:
        """Client `cpu_s`, simulator `sim_cpu_s` or `calls` within the scan phase."""
        assert self.scan_start is not None
        assert self.scan_end is not None
        if what == "cpu_s":
            return self.scan_end.cpu_s - self.scan_start.cpu_s
        if what == "sim_cpu_s":
            return float(self.scan_end.counts["cpu_s"] - self.scan_start.counts["cpu_s"])
        ops_end, ops_start = self.scan_end.counts["operations"], self.scan_start.counts["operations"]
        return float(sum(ops_end.values()) - sum(ops_start.values()))


def measure(sim: Simulator, command: list[str], env: dict[str, str], *, core: int | None = None) -> Measured:
    """Run `command` with `env`: wall, CPU and peak RSS of that process alone, calls seen by the simulator.

    Its log is read as it is written: at `discovery.done` and at each `account.done` the process's
    CPU seconds (/proc) and the simulator's counts are taken, which bound the scan phase; at
    `preflight.done`, the end of start-up.
    """
    load_before = os.getloadavg()[0]
    before = sim.counts()
    start: Mark | None = None
    end: Mark | None = None
    done: dict[str, Any] = {}
    started_up: Mark | None = None
    started = time.perf_counter()
    with _log_file() as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.PIPE, text=True)
        _pin(process.pid, core)
        assert process.stderr is not None
        for line in process.stderr:
            event = _event(line)
            if event == "run.done":
                done = json.loads(line)
            if event == "preflight.done":
                started_up = Mark(time.perf_counter() - started, _cpu_seconds(process.pid), sim.counts())
            if event in ("discovery.done", "account.done"):
                mark = Mark(time.perf_counter() - started, _cpu_seconds(process.pid), sim.counts())
                start, end = (mark, None) if event == "discovery.done" else (start, mark)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        reported = _last_json(out)
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
        load=(load_before, os.getloadavg()[0]),
        scan_start=start,
        scan_end=end if start is not None else None,
        started_up=started_up,
        reported=reported,
        done=done,
    )


def _pin(pid: int, core: int | None) -> None:
    """Keep process `pid` (and the threads it starts) on one core: two Python processes sharing both
    cores thrash (docs/benchmarks.md measured 7.15 ms of client CPU per call unpinned, 2.09 pinned)."""
    if core is not None and (os.cpu_count() or 1) > core:
        os.sched_setaffinity(pid, {core})


def _log_file() -> IO[str]:
    import tempfile

    return tempfile.TemporaryFile("w+")


def _event(line: str) -> str:
    if not line.startswith("{"):
        return ""
    event: str = json.loads(line).get("event", "")
    return event


def _cpu_seconds(pid: int) -> float:
    # utime and stime of every thread of the process, fields 14 and 15 of /proc/PID/stat.
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _last_json(out: IO[str]) -> dict[str, Any]:
    lines = [line for line in out if line.startswith("{")]
    found: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    return found


def job_env(sim: Simulator, **settings: str) -> dict[str, str]:
    """A clean environment for `config-report run` against the simulator."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_REPORT_"))}
    simulator: dict[str, str] = sim.info["env"]
    return base | simulator | {"CONFIG_REPORT_LOG_FORMAT": "json"} | settings


# --- the benchmark ----------------------------------------------------------------------------------


def bench(args: argparse.Namespace) -> int:
    """Seed, run the job (full size, then a subset at concurrency 1), the baseline; print the table."""
    sim = Simulator(args, core=_SIMULATOR_CORE)
    try:
        accounts: list[str] = sim.info["accounts"]
        run = [sys.executable, "-m", "config_report", "run"]
        full = measure(
            sim, run, job_env(sim, CONFIG_REPORT_CONCURRENCY=str(args.concurrency)), core=_JOB_CORE
        )
        subset = accounts[: args.subset]
        sequential = measure(
            sim,
            run,
            job_env(sim, CONFIG_REPORT_CONCURRENCY="1", CONFIG_REPORT_ACCOUNTS=",".join(subset)),
            core=_JOB_CORE,
        )
        raw_command = [sys.executable, __file__, "raw", f"--concurrency={args.concurrency}"]
        baseline = measure(sim, raw_command, job_env(sim), core=_JOB_CORE)
        frozen = measure(sim, [*raw_command, "--freeze"], job_env(sim), core=_JOB_CORE)
    finally:
        sim.close()
    print_table(args, sim.info, full, sequential, len(subset), baseline, frozen)
    return 0 if full.exit_code == 0 else 1


def print_table(
    args: argparse.Namespace,
    info: dict[str, Any],
    full: Measured,
    sequential: Measured,
    subset: int,
    baseline: Measured,
    frozen: Measured,
) -> None:
    """The one table: each figure beside its target, then the calls by operation. `frozen`: the
    baseline with its imports frozen out of the collector's passes, as the job freezes its own."""
    needed: dict[str, int] = info["needed"]
    rows = [
        *_setup_rows(args, info, full),
        *_ratio_rows(args, needed, full, sequential, subset),
        *_cpu_rows(full, baseline, frozen),
        *_baseline_wall_rows(args, full, baseline),
    ]
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    print(f"{'figure'.ljust(width)}  {'measured'.ljust(value_width)}  target")
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value.ljust(value_width)}  {target}")
    print()
    made = full.operations
    op_width = max(len(op) for op in [*made, "calls by operation"])
    print(f"{'calls by operation'.ljust(op_width)}  {'made':>9}  {'needed':>9}  {'raw botocore':>12}")
    for op in sorted(made | baseline.operations):
        expected = f"{needed[op]:,}" if op in needed else "-"
        print(
            f"{op.ljust(op_width)}  {made.get(op, 0):9,}  {expected:>9}  {baseline.operations.get(op, 0):12,}"
        )


def _cores() -> str:
    if (os.cpu_count() or 1) > _JOB_CORE:
        return f"simulator pinned to core {_SIMULATOR_CORE}, each measured process to core {_JOB_CORE}"
    return "one core: simulator and job share it (not pinned)"


def _setup_rows(args: argparse.Namespace, info: dict[str, Any], full: Measured) -> list[tuple[str, str, str]]:
    size = f"{args.accounts} accounts × {args.regions} regions × {args.rules} rules"
    return [
        ("organization", size, ""),
        ("account-regions (units)", f"{args.accounts * args.regions:,}", ""),
        ("non-compliant resources", f"{info['findings']:,}", ""),
        ("latency per call", f"{args.latency * 1000:.0f} ms", ""),
        ("concurrency", f"{args.concurrency}", ""),
        ("cores", _cores(), "simulator and job apart"),
        (
            "machine load (1-min average)",
            f"{full.load[0]:.2f} at the start, {full.load[1]:.2f} at the end",
            "",
        ),
        ("exit code", f"{full.exit_code}", "0"),
        ("wall time", _phases(full, full.wall_s, lambda m: m.at_s), ""),
        ("phase shares of wall time", _shares(full), "start-up, discovery, report: the fixed costs"),
        ("client CPU", _phases(full, full.cpu_s, lambda m: m.cpu_s), ""),
        ("client CPU ÷ scan wall", _scan_cores(full), "1 core is all a Python process can use"),
        ("peak RSS", f"{full.peak_rss_mib:.0f} MiB", "≤ 400 MiB at 200,000 findings"),
        ("RSS per finding", _per_finding(full.peak_rss_mib, info["findings"]), ""),
        ("calls made", f"{full.calls:,}", ""),
        ("throttles absorbed", f"{full.throttled:,}", ""),
        ("simulator CPU during run", _simulator(full), "well below 100 %"),
        ("seeding (not in the figures)", f"{info['seeding_s']} s", ""),
    ]


def _phases(run: Measured, total: float, at: Callable[[Mark], float]) -> str:
    if run.scan_start is None or run.scan_end is None:
        return f"{total:.1f} s"
    before, scan = at(run.scan_start), at(run.scan_end) - at(run.scan_start)
    after = total - before - scan
    return f"{total:.1f} s = {before:.1f} before the scan + {scan:.1f} scan + {after:.1f} report and upload"


def _shares(run: Measured) -> str:
    """Start-up (to the preflight marker), discovery (to `discovery.done`), scan (to the last account),
    report (the rest: compare, workbook, upload, Jira), each with its share of the wall time."""
    if run.started_up is None or run.scan_start is None or run.scan_end is None:
        return "-"
    bounds = [0.0, run.started_up.at_s, run.scan_start.at_s, run.scan_end.at_s, run.wall_s]
    names = ("start-up", "discovery", "scan", "report")
    spans = [later - earlier for earlier, later in itertools.pairwise(bounds)]
    return ", ".join(
        f"{name} {span:.1f} s ({span / run.wall_s:.0%})" for name, span in zip(names, spans, strict=True)
    )


def _scan_cores(run: Measured) -> str:
    if run.scan_s is None:
        return "-"
    return f"{run.scan_delta('cpu_s') / run.scan_s:.2f} of one core during the scan phase"


def _simulator(run: Measured) -> str:
    whole = f"{run.simulator_cpu_s / run.wall_s:.0%} of one core"
    if run.scan_s is None:
        return whole
    per_call = run.scan_delta("sim_cpu_s") / (run.scan_delta("calls") or 1) * 1000
    return f"{whole} (scan phase {run.scan_delta('sim_cpu_s') / run.scan_s:.0%}; {per_call:.1f} ms per call)"


def _ratio_rows(
    args: argparse.Namespace, needed: dict[str, int], full: Measured, sequential: Measured, subset: int
) -> list[tuple[str, str, str]]:
    made = full.operations
    # S3 is publishing, not scanning: only the operations a scan needs are counted.
    counted_made = sum(made.get(op, 0) for op in needed)
    counted_needed = sum(needed.values()) or 1
    ideal = full.calls * args.latency / args.concurrency
    scan_ideal = full.scan_delta("calls") * args.latency / args.concurrency if full.scan_s else 0.0
    seq_total = (sequential.scan_s or sequential.wall_s) * args.accounts / subset
    speedup = seq_total / (full.scan_s or full.wall_s)
    ms = f"{args.latency * 1000:.0f} ms"
    return [
        (
            "calls made ÷ needed",
            f"{counted_made / counted_needed:.2f} ({counted_made:,} ÷ {counted_needed:,})",
            "1.00",
        ),
        ("latency-bound ideal", f"{ideal:.1f} s ({full.calls:,} calls × {ms} ÷ {args.concurrency})", ""),
        (
            "wall ÷ ideal",
            f"{_ratio(full.wall_s, ideal)} (scan phase ÷ its own ideal {scan_ideal:.1f} s: "
            f"{_ratio(full.scan_s, scan_ideal)})",
            "≤ 1.3",
        ),
        (
            "sequential (concurrency 1)",
            f"{_fmt(sequential.scan_s)} s for {subset} accounts → {seq_total:.0f} s "
            f"({_per_call_ms(sequential)} per call)",
            "",
        ),
        ("speedup ÷ concurrency", f"{speedup / args.concurrency:.2f} ({speedup:.1f}× faster)", "≥ 0.8"),
    ]


def _per_call_ms(run: Measured) -> str:
    if run.scan_s is None:
        return "?"
    return f"{run.scan_s / (run.scan_delta('calls') or 1) * 1000:.0f} ms"


def _cpu_rows(full: Measured, baseline: Measured, frozen: Measured) -> list[tuple[str, str, str]]:
    job_per_call, raw_per_call = full.cpu_per_call_ms, baseline.cpu_per_call_ms
    frozen_per_call = frozen.cpu_per_call_ms
    rows = [
        ("client CPU per call", f"{job_per_call:.2f} ms (raw botocore {raw_per_call:.2f} ms)", ""),
        (
            "CPU per call ÷ raw botocore",
            f"{job_per_call / raw_per_call:.2f} (whole job ÷ whole baseline)",
            "≤ 1.25",
        ),
        (
            "... ÷ raw botocore, imports frozen too",
            f"{job_per_call / frozen_per_call:.2f} ({frozen_per_call:.2f} ms: the job's gc.freeze given "
            "to the baseline as well)",
            "",
        ),
    ]
    if full.scan_s is not None and "cpu_s" in baseline.reported:
        scan_per_call = full.scan_delta("cpu_s") / (full.scan_delta("calls") or 1) * 1000
        raw_scan = baseline.reported["cpu_s"] / (baseline.calls or 1) * 1000
        rows.append(
            (
                "scan CPU per call ÷ raw",
                f"{scan_per_call / raw_scan:.2f} ({scan_per_call:.2f} ms ÷ {raw_scan:.2f} ms; start-up and "
                "report excluded from both)",
                "",
            )
        )
    scanned = {op: n for op, n in full.operations.items() if not op.startswith("s3:")}
    differ = sorted(
        op
        for op in scanned.keys() | baseline.operations.keys()
        if scanned.get(op) != baseline.operations.get(op)
    )
    same = "yes (S3 publishing aside)" if not differ else f"NO, they differ in {', '.join(differ)}"
    rows.append(("raw botocore made the same calls", same, "yes"))
    return rows


def _baseline_wall_rows(
    args: argparse.Namespace, full: Measured, baseline: Measured
) -> list[tuple[str, str, str]]:
    """How close raw botocore, making the same calls at the same concurrency, comes to the ideal: when it
    cannot reach it either, the simulator (not the job) bounds the wall time, and the job's own cost is
    its wall time beside raw botocore's."""
    ideal = baseline.calls * args.latency / args.concurrency
    simulator_per_call = baseline.simulator_cpu_s / (baseline.calls or 1) * 1000
    return [
        (
            "raw botocore wall ÷ ideal",
            f"{_ratio(baseline.wall_s, ideal)} ({baseline.wall_s:.1f} s; the simulator's CPU "
            f"{simulator_per_call:.1f} ms per call)",
            "",
        ),
        ("job wall ÷ raw botocore wall", _ratio(full.wall_s, baseline.wall_s), ""),
    ]


def _fmt(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "?"


def _ratio(value: float | None, ideal: float) -> str:
    return f"{value / ideal:.2f}" if value is not None and ideal else "-"


def _per_finding(rss_mib: float, findings: int) -> str:
    return f"{rss_mib * 1024 / findings:.2f} KiB (whole process ÷ findings)" if findings else "-"


# --- the two sources side by side -------------------------------------------------------------------

# Each configuration's settings: the spokes, the aggregator's detail calls, its advanced queries.
SOURCES = {
    "spokes": {},
    "aggregator": {"CONFIG_REPORT_SOURCE": "aggregator"},
    "aggregator, query": {"CONFIG_REPORT_SOURCE": "aggregator", "CONFIG_REPORT_AGGREGATOR_FINDINGS": "query"},
}
_NEEDED = {"spokes": None, "aggregator": "details", "aggregator, query": "query"}


def compare_sources(args: argparse.Namespace) -> int:
    """The same organization read by the real job through each source, each run alone on its own core
    (the simulator on another); prints the figures side by side and the calls each needed."""
    sim = Simulator(args, core=_SIMULATOR_CORE)
    try:
        run = [sys.executable, "-m", "config_report", "run"]
        runs = {
            label: measure(
                sim,
                run,
                job_env(sim, CONFIG_REPORT_CONCURRENCY=str(args.concurrency), **settings),
                core=_JOB_CORE,
            )
            for label, settings in SOURCES.items()
        }
    finally:
        sim.close()
    print_sources_table(args, sim.info, runs)
    return 0 if all(r.exit_code == 0 for r in runs.values()) else 1


def cpu_rounds(args: argparse.Namespace) -> int:
    """The CPU-per-call comparison alone, `args.rounds` times: each round a fresh organization (so every
    job run is a first week, as in `bench`), the job and both baselines in an order that rotates, so a
    machine growing busier or quieter during the rounds weighs on each the same. Prints every round and
    the medians: one run of each differs by more than this shared machine's noise (docs/benchmarks.md)."""
    raw_command = [sys.executable, __file__, "raw", f"--concurrency={args.concurrency}"]
    commands = {
        "job": [sys.executable, "-m", "config_report", "run"],
        "raw": raw_command,
        "raw, frozen": [*raw_command, "--freeze"],
    }
    per_call: dict[str, list[float]] = {label: [] for label in commands}
    failed = False
    for number in range(args.rounds):
        turn = number % len(commands)
        order = list(commands)[turn:] + list(commands)[:turn]
        sim = Simulator(args, core=_SIMULATOR_CORE)
        try:
            env = job_env(sim, CONFIG_REPORT_CONCURRENCY=str(args.concurrency))
            runs = {label: measure(sim, commands[label], env, core=_JOB_CORE) for label in order}
        finally:
            sim.close()
        failed = failed or any(run.exit_code != 0 for run in runs.values())
        for label, run in runs.items():
            per_call[label].append(run.cpu_per_call_ms)
        figures = ", ".join(f"{label} {per_call[label][-1]:.2f} ms" for label in order)
        print(f"round {number + 1}: {figures} (load {runs[order[0]].load[0]:.2f})", flush=True)
    medians = {label: statistics.median(values) for label, values in per_call.items()}
    for baseline in ("raw", "raw, frozen"):
        ratios = [job / raw for job, raw in zip(per_call["job"], per_call[baseline], strict=True)]
        print(
            f"CPU per call ÷ {baseline}: median {statistics.median(ratios):.2f} of {len(ratios)} rounds "
            f"(each {', '.join(f'{r:.2f}' for r in ratios)}); medians {medians['job']:.2f} ÷ "
            f"{medians[baseline]:.2f} ms = {medians['job'] / medians[baseline]:.2f}   target ≤ 1.25"
        )
    return 1 if failed else 0


def needed_by(info: dict[str, Any], label: str) -> dict[str, int]:
    """The calls a correct run of configuration `label` needs, by operation (S3 aside)."""
    mode = _NEEDED[label]
    found: dict[str, int] = info["needed"] if mode is None else info["needed_through_aggregator"][mode]
    return found


def print_sources_table(args: argparse.Namespace, info: dict[str, Any], runs: dict[str, Measured]) -> None:
    """Figures side by side, then the calls by operation each made (and needed)."""
    spokes = runs["spokes"]
    scanned = {label: _scan_calls(run) for label, run in runs.items()}
    rows: list[tuple[str, ...]] = [
        ("organization", f"{args.accounts} accounts × {args.regions} regions × {args.rules} rules", "", ""),
        ("latency per call, concurrency", f"{args.latency * 1000:.0f} ms, {args.concurrency}", "", ""),
        ("machine load at the start", *(f"{r.load[0]:.2f}" for r in runs.values())),
        ("exit code", *(str(r.exit_code) for r in runs.values())),
        (
            "non-compliant resources",
            *(f"{r.done.get('noncompliant_resources', '?'):,}" for r in runs.values()),
        ),
        ("failing evaluations", *(f"{r.done.get('failing_evaluations', '?'):,}" for r in runs.values())),
        ("coverage gaps", *(str(r.done.get("coverage_gaps", "?")) for r in runs.values())),
        ("wall time", *(f"{r.wall_s:.1f} s" for r in runs.values())),
        ("client CPU", *(f"{r.cpu_s:.1f} s" for r in runs.values())),
        ("peak RSS", *(f"{r.peak_rss_mib:.0f} MiB" for r in runs.values())),
        ("AWS calls (S3 publishing aside)", *(f"{n:,}" for n in scanned.values())),
        ("calls needed", *(f"{sum(needed_by(info, label).values()):,}" for label in runs)),
        (
            "calls ÷ the spokes' calls",
            *(f"{n / (scanned['spokes'] or 1):.3f}" for n in scanned.values()),
        ),
        ("calls saved", *(f"{scanned['spokes'] - n:,}" for n in scanned.values())),
        ("wall time ÷ the spokes'", *(f"{r.wall_s / spokes.wall_s:.2f}" for r in runs.values())),
        ("simulator CPU during the run", *(f"{r.simulator_cpu_s:.1f} s" for r in runs.values())),
        ("seeding (not in the figures)", f"{info['seeding_s']} s", "", ""),
    ]
    _print_columns(("figure", *runs), rows)
    print()
    operations = sorted({op for r in runs.values() for op in r.operations if not op.startswith("s3:")})
    needed = {label: needed_by(info, label) for label in runs}
    _print_columns(
        ("calls by operation (made / needed)", *runs),
        [
            (op, *(f"{runs[label].operations.get(op, 0):,} / {needed[label].get(op, 0):,}" for label in runs))
            for op in operations
        ],
    )


def _scan_calls(run: Measured) -> int:
    return sum(n for op, n in run.operations.items() if not op.startswith("s3:"))


def _print_columns(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


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
    parser.add_argument("--freeze", action="store_true", help="raw: freeze the imports, as the job does")
    parser.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="only the CPU comparison: the job and both baselines this many times, then the medians",
    )
    parser.add_argument(
        "--sources",
        action="store_true",
        help="run the job through the spokes, the aggregator and its advanced queries, side by side",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.regions <= len(DEFAULT_REGIONS):
        parser.error(f"--regions must be 1 to {len(DEFAULT_REGIONS)}")
    args.subset = max(1, min(args.subset, args.accounts))
    benchmark = compare_sources if args.sources else cpu_rounds if args.rounds else bench
    roles = {"bench": benchmark, "simulator": serve, "raw": raw}
    return roles[args.role](args)


if __name__ == "__main__":
    sys.exit(main())
