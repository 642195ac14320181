"""`make bench-merge`: the merge of a large sharded run, as the pod that merges does it, measured.

    .venv/bin/python benchmarks/merge.py --findings 2000000 --shards 20

A simulated organization (moto on loopback, in this process) provides the accounts, the roles and the
report bucket. Each shard's part is a synthetic finished report of that shard's accounts (every region
read, the findings spread evenly), written and uploaded by the product's own `publish_part`. Then
`config-report merge` runs as a real subprocess, and its wall time, CPU time and peak RSS are read from
the kernel when it ends (`os.wait4`'s resource usage of that one process: measured, not estimated).
With `--weeks 2` (the default) a second sharded run of the same findings is merged after the first, so
the second merge also compares with the first's snapshot, as next week's run does.

The workbook (the merge's local copy, `CONFIG_REPORT_OUTPUT_DIR`) is read back sheet by sheet, streamed,
to print each sheet's row count: a sheet past Excel's 1,048,576 rows continues on `… (2)`.

On a machine with two or more cores the merge runs pinned to one core and this process (the simulator)
to another, so the two do not thrash; the output says whether it was pinned. The machine's load average
is printed beside the figures: CPU time inflates on a shared, busy machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

sys.path.insert(0, str(Path(__file__).resolve().parent))

from python_calamine import CalamineWorkbook
from workbook import NOW, REGIONS, synthetic_scans

from config_report.app.run import run_info
from config_report.app.shards import joined_run, publish_part
from config_report.domain.figures import finished
from config_report.domain.model import Account, Report
from config_report.domain.shards import Shard
from config_report.settings import load_settings
from config_report.simulated import SimulatedOrganization
from config_report.simulated.scale import seed_scale_organization

TARGET_RSS_MIB = 512.0
"""The chart's memory limit for the pod that merges: issue 20's target at 2,000,000 findings."""
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@dataclass(frozen=True, slots=True)
class Merged:
    """One `config-report merge` process, measured."""

    exit_code: int
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    peak_tmp_mb: float  # the most the process had in its TMPDIR at once: named files and unlinked open ones
    workbook: Path | None
    stderr_tail: str


def main(argv: Sequence[str] | None = None) -> int:
    """Seed the organization, write the parts, merge them week after week, print the figures."""
    args = _arguments(argv)
    pinned = _pin_self()
    load_before = os.getloadavg()[0]
    print(
        f"{args.findings:,} findings, {args.shards} shards, {args.accounts} accounts × {len(REGIONS)} "
        f"regions, {args.weeks} week(s); {_pinning(pinned)}"
    )
    with SimulatedOrganization() as sim, tempfile.TemporaryDirectory() as folder:
        org = seed_scale_organization(
            sim, accounts=args.accounts, regions=REGIONS, rules=1, resources_per_rule=1, noncompliant_share=0
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_REPORT_"))},
            **org.client_env(sim.endpoint_url, "testing"),
            "CONFIG_REPORT_LOG_FORMAT": "json",
            "CONFIG_REPORT_SHARD_COUNT": str(args.shards),
        }
        for week in range(1, args.weeks + 1):
            week_env = env | {
                "CONFIG_REPORT_RUN_NAME": f"bench-merge-week-{week}",
                "CONFIG_REPORT_OUTPUT_DIR": str(Path(folder) / f"week-{week}"),
            }
            started = time.perf_counter()
            write_parts(week_env, org.accounts, findings=args.findings, shards=args.shards)
            print(f"week {week}: parts written and uploaded in {time.perf_counter() - started:.1f} s")
            merged = merge(week_env, pinned=pinned)
            report_merge(week, merged, args.findings)
            if merged.exit_code != 0:
                return 1
    print(
        f"machine load (1-min average): {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the "
        f"end, on {os.cpu_count()} cores shared with other work"
    )
    return 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--findings", type=int, default=20_000, help="non-compliant findings (20000)")
    parser.add_argument("--shards", type=int, default=4, help="shards, each writing one part (4)")
    parser.add_argument("--accounts", type=int, default=40, help="accounts in the organization (40)")
    parser.add_argument("--weeks", type=int, default=2, help="runs merged one after another (2)")
    args = parser.parse_args(argv)
    if args.shards < 2 or args.accounts < args.shards or args.findings < 0 or args.weeks < 1:
        parser.error("need --shards >= 2, --accounts >= --shards, --findings >= 0, --weeks >= 1")
    return args


def write_parts(env: dict[str, str], accounts: Sequence[Account], *, findings: int, shards: int) -> None:
    """Each shard's part of one run, through the product's own writer (`publish_part`): a finished
    report of that shard's accounts, `findings` spread evenly over all the organization's accounts."""
    base, extra = divmod(findings, len(accounts))
    share = {a.id: base + (n < extra) for n, a in enumerate(accounts)}
    for index in range(shards):
        shard = Shard(index, shards)
        own = [a for a in accounts if shard.owns(a)]
        with _environment(env | {"CONFIG_REPORT_SHARD_INDEX": str(index)}):
            context, _ = joined_run(load_settings(), as_json=True)
        scans = synthetic_scans(own, sum(share[a.id] for a in own))
        part = finished(Report(run=run_info(context, took=NOW - NOW), scans=scans))
        publish_part(context, shard, part)


class _environment:
    """`os.environ` replaced by `env` within the block (settings are read from the environment)."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self._saved: dict[str, str] = {}

    def __enter__(self) -> None:
        self._saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self._env)

    def __exit__(self, *_: object) -> None:
        os.environ.clear()
        os.environ.update(self._saved)


def merge(env: dict[str, str], *, pinned: bool) -> Merged:
    """Run `config-report merge` and measure that process alone: wall clock here, CPU time and peak
    RSS from the kernel's accounting of the child when it ends."""
    command = [sys.executable, "-m", "config_report", "merge"]
    if pinned:
        command = ["taskset", "-c", "1", *command]
    with tempfile.TemporaryFile("w+") as log, tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env | {"TMPDIR": scratch}, stdout=subprocess.DEVNULL, stderr=log, text=True
        )
        sampler = TmpSampler(process.pid, scratch)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        tail = log.read()[-3000:]
    output = Path(env["CONFIG_REPORT_OUTPUT_DIR"])
    books = sorted(output.glob("*.xlsx")) if output.is_dir() else []
    return Merged(
        exit_code=process.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,  # Linux reports KiB
        peak_tmp_mb=sampler.peak / 1_000_000,
        workbook=books[0] if books else None,
        stderr_tail=tail,
    )


class TmpSampler(threading.Thread):
    """The bytes a process keeps in its TMPDIR, sampled twice a second: the files there by name, and the
    unlinked ones it still holds open (the findings spool has no name), each counted once."""

    def __init__(self, pid: int, folder: str) -> None:
        super().__init__(daemon=True)
        self._pid, self._folder = pid, folder
        self._done = threading.Event()
        self.peak = 0

    def run(self) -> None:
        while not self._done.wait(0.5):
            self.peak = max(self.peak, self._sample())

    def stop(self) -> None:
        self._done.set()
        self.join()

    def _sample(self) -> int:
        sizes: dict[int, int] = {}
        for root, _, names in os.walk(self._folder):
            for name in names:
                with contextlib.suppress(OSError):
                    found = os.stat(os.path.join(root, name))
                    sizes[found.st_ino] = found.st_size
        fds = Path(f"/proc/{self._pid}/fd")
        for fd in fds.iterdir() if fds.is_dir() else ():
            with contextlib.suppress(OSError):
                if os.readlink(fd).startswith(self._folder):
                    found = os.stat(fd)
                    sizes[found.st_ino] = found.st_size
        return sum(sizes.values())


def report_merge(week: int, merged: Merged, findings: int) -> None:
    """One merge's figures, its peak RSS beside the target, and the workbook's sheets with their rows."""
    per_million = merged.cpu_s / (findings / 1_000_000) if findings else 0.0
    verdict = "met" if merged.peak_rss_mib <= TARGET_RSS_MIB else "missed"
    print(
        f"week {week}: merge exit {merged.exit_code}, wall {merged.wall_s:.1f} s, CPU {merged.cpu_s:.1f} s "
        f"({per_million:.1f} s per million findings), peak RSS {merged.peak_rss_mib:.0f} MiB "
        f"(target ≤ {TARGET_RSS_MIB:.0f} MiB: {verdict}); peak TMPDIR use {merged.peak_tmp_mb:,.0f} MB"
    )
    if merged.exit_code != 0 or merged.workbook is None:
        print(merged.stderr_tail, file=sys.stderr)
        return
    size = merged.workbook.stat().st_size / 1_000_000
    print(f"  workbook {merged.workbook.name}, {size:.1f} MB; rows per sheet, header included:")
    for name, rows in sheet_rows(merged.workbook):
        print(f"    {name:<32} {rows:>10,}")
    for line in continuation_notes(merged.workbook):
        print(f"  the Summary says: {line}")


def continuation_notes(workbook: Path) -> list[str]:
    """The Summary's lines saying which tables continue on further sheets."""
    summary = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name("Summary").to_python()
    return [str(row[0]) for row in summary if row and "more than a sheet holds" in str(row[0])]


def sheet_rows(workbook: Path) -> Iterator[tuple[str, int]]:
    """Each sheet's name and row count, read as a stream (a million-row sheet is never held whole)."""
    with zipfile.ZipFile(workbook) as archive:
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
        for sheet in book.iter(f"{_MAIN}sheet"):
            with archive.open("xl/" + targets[sheet.get(_REL)]) as part:
                yield str(sheet.get("name")), _count_rows(part)


def _count_rows(part: IO[bytes]) -> int:
    rows = 0
    table: ElementTree.Element | None = None
    for event, element in ElementTree.iterparse(part, events=("start", "end")):  # noqa: S314
        if event == "start" and element.tag == f"{_MAIN}sheetData":
            table = element
        elif event == "end" and element.tag == f"{_MAIN}row" and table is not None:
            rows += 1
            table.clear()  # forget the rows counted, so memory stays flat
    return rows


def _pin_self() -> bool:
    """Pin this process (the simulator) to core 0 when there are two or more cores; the merge gets core 1."""
    if (os.cpu_count() or 1) < 2 or not hasattr(os, "sched_setaffinity"):
        return False
    os.sched_setaffinity(0, {0})
    return True


def _pinning(pinned: bool) -> str:
    if pinned:
        return "pinned: the merge on core 1, the simulator (this process) on core 0"
    return "not pinned (one core): the simulator and the merge share it"


if __name__ == "__main__":
    sys.exit(main())
