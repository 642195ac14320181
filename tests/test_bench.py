"""`make bench` at a tiny size, so the benchmark cannot rot: it runs end to end and prints its table.

No figure is asserted except the exact ones (calls made ÷ needed): timings depend on the machine.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"
TINY = ["--accounts=6", "--regions=2", "--rules=3", "--resources=3", "--latency=0", "--subset=2"]


def _bench(*options: str) -> subprocess.CompletedProcess[str]:
    """`bench.py` at the tiny size with `options`; it must succeed."""
    command = [sys.executable, str(BENCH), *options, *TINY]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_the_benchmark_runs_the_job_and_prints_every_figure_beside_its_target() -> None:
    done = _bench()
    rows = {line.split("  ")[0].strip(): line for line in done.stdout.splitlines() if line.strip()}
    for figure in (
        "wall time",
        "phase shares of wall time",
        "client CPU",
        "peak RSS",
        "throttles absorbed",
        "wall ÷ ideal",
        "speedup ÷ concurrency",
        "CPU per call ÷ raw botocore",
        "... ÷ raw botocore, imports frozen too",
        "scan CPU per call ÷ raw",
        "client CPU ÷ scan wall",
        "cores",
        "machine load (1-min average)",
        "simulator CPU during run",
    ):
        assert figure in rows, done.stdout
    assert "6 accounts × 2 regions × 3 rules" in rows["organization"]
    # Every call the scan needs, and nothing more: one AssumeRole per account, every page once.
    assert rows["calls made ÷ needed"].split()[4] == "1.00", done.stdout
    # Made, needed, and made by the raw-botocore baseline: the CPU comparison is over the same calls.
    assert rows["sts:AssumeRole"].split()[1:] == ["7", "7", "7"]
    assert rows["config:GetComplianceDetailsByConfigRule"].split()[1:] == ["36", "36", "36"]
    # Conformance packs: one page of packs and one of the pack's rules per account-region, no call per rule.
    assert rows["config:DescribeConformancePacks"].split()[1:] == ["12", "12", "12"]
    assert rows["config:DescribeConformancePackCompliance"].split()[1:] == ["12", "12", "12"]
    assert rows["raw botocore made the same calls"].split()[6] == "yes", done.stdout


def test_the_sources_benchmark_runs_both_sources_on_one_organization_making_exactly_the_calls_needed() -> (
    None
):
    done = _bench("--sources")
    rows = {line.split("  ")[0].strip(): line.split() for line in done.stdout.splitlines() if line.strip()}
    # The same findings through each source (spokes, aggregator, aggregator with advanced queries).
    assert rows["non-compliant resources"][-3:] == ["12", "12", "12"]
    made, needed = rows["AWS calls (S3 publishing aside)"][-3:], rows["calls needed"][-3:]
    assert made == needed, done.stdout
    assert int(made[0]) > int(made[1]) > int(made[2])
    # One AssumeRole for the aggregator's role (and the org role's) instead of one per account.
    assert rows["sts:AssumeRole"][1:] == ["7", "/", "7", "2", "/", "2", "2", "/", "2"]


def test_the_rounds_benchmark_alternates_the_job_and_both_baselines_and_prints_their_medians() -> None:
    done = _bench("--rounds=2")
    lines = done.stdout.splitlines()
    # Each round its own organization, the order rotated: the job first in round 1, last in round 2.
    assert re.match(r"round 1: job [\d.]+ ms, raw [\d.]+ ms, raw, frozen [\d.]+ ms", lines[0]), done.stdout
    assert re.match(r"round 2: raw [\d.]+ ms, raw, frozen [\d.]+ ms, job [\d.]+ ms", lines[1]), done.stdout
    assert lines[2].startswith("CPU per call ÷ raw: median "), done.stdout
    assert lines[3].startswith("CPU per call ÷ raw, frozen: median "), done.stdout
    assert "of 2 rounds" in lines[3], done.stdout
