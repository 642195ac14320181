"""How long the report files take to write, and how much memory, for a large synthetic organization.

    .venv/bin/python benchmarks/workbook.py                 # 500,000 findings
    .venv/bin/python benchmarks/workbook.py --findings 50000 --accounts 20
    .venv/bin/python benchmarks/workbook.py --findings 180000 --accounts 1000 --spool   # as a run keeps them

Prints wall and CPU time and peak RSS (resource.getrusage, so the high-water mark of the whole process,
building the report included) for the figures, `write_workbook`, then `write_snapshot`, the workbook's figures
beside issue 12's targets, and the machine's load average (CPU time inflates on a shared, busy machine).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import cycle, islice
from pathlib import Path

from config_report.domain.figures import finished
from config_report.domain.model import (
    Account,
    AccountScan,
    Compliance,
    Coverage,
    CoverageStatus,
    Finding,
    Report,
    RuleResult,
    RunInfo,
)
from config_report.domain.shelved import shelved_of
from config_report.render.xlsx.workbook import write_workbook
from config_report.store.snapshot import write_snapshot
from config_report.store.spool import Spool

REGIONS = ("eu-west-1", "eu-central-1", "us-east-1")
RULES = (
    ("s3-bucket-public-read-prohibited", "AWS::S3::Bucket"),
    ("s3-bucket-ssl-requests-only", "AWS::S3::Bucket"),
    ("restricted-ssh", "AWS::EC2::SecurityGroup"),
    ("vpc-default-security-group-closed", "AWS::EC2::SecurityGroup"),
    ("encrypted-volumes", "AWS::EC2::Volume"),
    ("ec2-instance-no-public-ip", "AWS::EC2::Instance"),
    ("iam-user-mfa-enabled", "AWS::IAM::User"),
    ("rds-storage-encrypted", "AWS::RDS::DBInstance"),
    ("cloudtrail-enabled", "AWS::::Account"),
    ("lambda-function-public-access-prohibited", "AWS::Lambda::Function"),
)
ANNOTATIONS = (
    "",
    "The resource does not comply with the rule's parameters.",
    "Bucket policy grants s3:GetObject to Principal '*' without a condition on aws:SourceVpce.",
    '=HYPERLINK("http://example.com","click")',
)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TARGET_FINDINGS = 500_000
TARGET_SECONDS = 45.0
"""Issue 12: the workbook of `TARGET_FINDINGS` findings is written in at most this long..."""
TARGET_RSS_MIB = 300.0
"""...with the process's peak resident memory at most this."""


def synthetic_report(findings: int, accounts: int, shelf: Spool | None = None) -> Report:
    """`accounts` accounts × `REGIONS` × `RULES`, with `findings` non-compliant resources spread over them
    (each account's rules and findings on `shelf`, as a run keeps them, when one is given)."""
    members = [
        Account(id=f"{number:012d}", name=f"workload-{number:03d}", ou="Workloads/Prod")
        for number in range(accounts)
    ]
    run = RunInfo(
        "benchmark", NOW, NOW + timedelta(minutes=30), "arn:aws:sts::000000000000:assumed-role/hub/x"
    )
    scans = tuple(
        replace(s, rules=shelved_of(s.rules, shelf), findings=shelved_of(s.findings, shelf))
        for s in synthetic_scans(members, findings)
    )
    return Report(run=run, scans=scans)


def synthetic_scans(accounts: Sequence[Account], findings: int) -> tuple[AccountScan, ...]:
    """`accounts` × `REGIONS` × `RULES`, every region read, `findings` non-compliant resources spread
    evenly over them."""
    slots = len(accounts) * len(REGIONS) * len(RULES)
    per_slot, remainder = divmod(findings, slots)
    annotations = cycle(ANNOTATIONS)
    scans = []
    slot = 0
    for account in accounts:
        rules: list[RuleResult] = []
        found: list[Finding] = []
        for region in REGIONS:
            for rule_name, resource_type in RULES:
                count = per_slot + (1 if slot < remainder else 0)
                slot += 1
                compliance = Compliance.NON_COMPLIANT if count else Compliance.COMPLIANT
                rules.append(RuleResult(account.id, region, rule_name, compliance, count))
                found.extend(
                    Finding(
                        account_id=account.id,
                        region=region,
                        rule_name=rule_name,
                        resource_type=resource_type,
                        resource_id=f"arn:aws:{region}:{account.id}:{rule_name[:8]}/resource-{n:07d}",
                        annotation=annotation,
                        last_evaluated=NOW - timedelta(minutes=n % 10_000),
                    )
                    for n, annotation in zip(range(count), islice(annotations, count), strict=True)
                )
        coverage = tuple(Coverage(account.id, region, CoverageStatus.OK) for region in REGIONS)
        scans.append(AccountScan(account, tuple(rules), tuple(found), coverage))
    return tuple(scans)


def peak_rss_mib() -> float:
    """The process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(label: str, write: Callable[[Report, Path], Path], report: Report, path: Path) -> float:
    """Run one writer, print its wall and CPU time, the peak RSS after it and the file's size; return CPU.

    CPU time is printed beside wall time because a busy machine stretches the wall time most.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    write(report, path)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    size_mb = path.stat().st_size / 1_000_000
    print(
        f"{label:<15} {seconds:7.1f} s (CPU {cpu:6.1f} s)   peak RSS {peak_rss_mib():7.0f} MiB   "
        f"file {size_mb:6.1f} MB"
    )
    return cpu


def verdict(figure: float, target: float, unit: str) -> str:
    """`figure` beside its target, and whether it is met."""
    return f"{figure:.1f} {unit} (target ≤ {target:.0f} {unit}: {'met' if figure <= target else 'missed'})"


def main() -> None:
    """Parse the command line, build the report, time both writers."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--findings", type=int, default=TARGET_FINDINGS, help="non-compliant resources (500000)"
    )
    parser.add_argument(
        "--accounts", type=int, default=50, help="accounts, each with 3 regions × 10 rules (50)"
    )
    parser.add_argument(
        "--spool", action="store_true", help="keep rules and findings on a spool, as a run does (in memory)"
    )
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    spool = Spool() if args.spool else None
    report = synthetic_report(args.findings, args.accounts, spool)
    built = time.perf_counter() - started
    where = "on a spool" if spool else "in memory"
    print(f"{args.findings:,} findings in {args.accounts} accounts, {where}")
    print(f"{'build report':<15} {built:7.1f} s   peak RSS {peak_rss_mib():7.0f} MiB")
    started, cpu_started = time.perf_counter(), time.process_time()
    report = finished(report)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"{'figures':<15} {seconds:7.1f} s (CPU {cpu:6.1f} s)   peak RSS {peak_rss_mib():7.0f} MiB")
    if spool is not None:
        per_finding = spool.size / max(args.findings, 1)
        print(f"{'spool':<15} {spool.size / 1_000_000:7.1f} MB, {per_finding:.0f} bytes a finding")
    with tempfile.TemporaryDirectory() as folder:
        cpu = measure("write_workbook", write_workbook, report, Path(folder) / "report.xlsx")
        rss = peak_rss_mib()
        measure("write_snapshot", write_snapshot, report, Path(folder) / "snapshot.json.gz")
    # One thread writes the workbook, so its CPU time is its wall time on an idle core.
    figures = f"CPU {verdict(cpu, TARGET_SECONDS, 's')}, peak RSS {verdict(rss, TARGET_RSS_MIB, 'MiB')}"
    if args.findings != TARGET_FINDINGS:
        figures = f"CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB (the targets are set for {TARGET_FINDINGS:,})"
    print(f"workbook, {args.findings:,} findings: {figures}")
    load_after = os.getloadavg()[0]
    print(f"machine load (1-min average): {load_before:.2f} at the start, {load_after:.2f} at the end")


if __name__ == "__main__":
    main()
