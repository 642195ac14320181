"""The workbook benchmark at a tiny size, so it cannot rot: it writes both files and prints its figures.

No timing is asserted: it depends on the machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "workbook.py"


def test_the_workbook_benchmark_writes_both_files_and_prints_its_figures_and_the_machine_load() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--findings=3000", "--accounts=4"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    lines = {line.split("  ")[0].split(",")[0]: line for line in done.stdout.splitlines()}
    assert "3,000 findings in 4 accounts" in done.stdout
    for figure in ("write_workbook", "write_snapshot"):
        assert " MiB " in lines[figure], done.stdout
        assert " file " in lines[figure], done.stdout
    assert "the targets are set for 500,000" in lines["workbook"], done.stdout
    assert "machine load (1-min average)" in done.stdout
