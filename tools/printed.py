"""The workbook as a person prints it: LibreOffice's PDF of it, and a page of that as a PNG.

    python tools/printed.py docs/summary.png

runs the demo (`config-report demo`, the simulated organization on loopback), prints its workbook with
headless LibreOffice and writes the first page, the Summary's, as a PNG: the picture the README shows
(`make summary-png`). The layout tests print workbooks with `print_pdf` too. Needs `soffice` and
`pdftoppm` (Debian: libreoffice-calc-nogui, poppler-utils).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

PNG_DPI = 150
"""Sharp enough to read the Summary's smallest text (7 points on paper) when the picture is zoomed."""

_INSTALL = "install LibreOffice and poppler (Debian: apt-get install libreoffice-calc-nogui poppler-utils)"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not on PATH: {_INSTALL}")
    return found


def print_pdf(workbook: Path, folder: Path) -> Path:
    """Print `workbook` to a PDF in `folder` with headless LibreOffice, as File > Export as PDF would."""
    done = subprocess.run(  # noqa: S603 - our own arguments
        [
            _tool("soffice"),
            f"-env:UserInstallation=file://{folder / 'profile'}",  # a throwaway profile
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(workbook),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    pdf = folder / (workbook.stem + ".pdf")
    # LibreOffice exits 0 even when it could not load the file; a missing PDF is how that shows.
    if done.returncode != 0 or not pdf.exists():
        raise RuntimeError(f"LibreOffice could not print {workbook}: {done.stdout} {done.stderr}")
    return pdf


def first_page_png(pdf: Path, png: Path) -> Path:
    """Write the first page of `pdf` to `png`, at `PNG_DPI`."""
    stem = png.with_suffix("")  # pdftoppm adds the .png
    subprocess.run(  # noqa: S603 - our own arguments
        [
            _tool("pdftoppm"),
            "-png",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            "-r",
            str(PNG_DPI),
            str(pdf),
            str(stem),
        ],
        check=True,
        timeout=120,
    )
    return png


def demo_workbook(folder: Path, *, accounts: int | None = None) -> Path:
    """Run the demo (`accounts` simulated accounts, else its default) into `folder`; return its workbook."""
    # The demo needs none of the user's AWS or config-report settings: left out, the picture is the same
    # on every machine.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_REPORT_"))}
    count = ["--accounts-count", str(accounts)] if accounts is not None else []
    subprocess.run(  # noqa: S603 - our own arguments
        [sys.executable, "-m", "config_report", "demo", "--output", str(folder), *count],
        env=environment | {"AWS_PROFILE": "no-such-profile"},
        check=True,
        capture_output=True,
        timeout=600,
    )
    (workbook,) = folder.glob("*.xlsx")
    return workbook


def main(argv: Sequence[str] | None = None) -> int:
    """Write the demo's Summary page as a PNG at the path given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("png", type=Path, help="where to write the PNG, e.g. docs/summary.png")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="summary-png-") as work:
        folder = Path(work)
        pdf = print_pdf(demo_workbook(folder / "demo"), folder)
        first_page_png(pdf, args.png)
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
