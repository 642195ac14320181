"""The merge benchmark at a tiny size, so it cannot rot: parts written by the product, merged by a real
`config-report merge`, its figures and the workbook's rows per sheet printed.

No timing or memory figure is asserted: they depend on the machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "merge.py"


def test_the_merge_benchmark_merges_the_parts_and_prints_its_figures_and_every_sheets_rows() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--findings=1200", "--shards=2", "--accounts=4", "--weeks=1"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "1,200 findings, 2 shards, 4 accounts" in done.stdout
    assert "week 1: merge exit 0" in done.stdout
    assert " MiB (target ≤ 512 MiB: " in done.stdout
    assert " s per million findings" in done.stdout
    rows = {line.split()[0]: line.split()[-1] for line in done.stdout.splitlines() if line.startswith("    ")}
    assert rows["Accounts"] == "5", done.stdout  # the header and the 4 accounts
    assert rows["Non-compliant"] == "1,201", done.stdout
    assert "machine load (1-min average)" in done.stdout
