"""Compare two runs' reports: the workbook cell for cell, the snapshot's findings and figures, run IDs
and times aside. Exit 0 when they are the same, 1 (listing the differences) when not.

    python tools/compare_reports.py reports/before reports/after

Each folder holds one run's `.xlsx` and `.snapshot.json.gz` (what `config-report demo --output` or
`CONFIG_REPORT_OUTPUT_DIR` writes). Used to prove that a change of structure changed no report: run
the demo before and after, on the same day, and compare. Times differ between two runs (when they
started, when the simulator recorded an evaluation), and so do run IDs and the simulated
organization's OU IDs: those are masked; dates are not.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import zipfile
from collections.abc import Iterator, Sequence
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from python_calamine import CalamineWorkbook

_RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
# The simulated organization's root and OU IDs are drawn afresh each time it starts.
_ORGANIZATION_IDS = re.compile(r"\b(r-[0-9a-z]{4}|ou-[0-9a-z]{4}-[0-9a-z]{8})\b")
_TIMES = (
    re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?( UTC)?"),
    re.compile(r"\d{1,2} [A-Z][a-z]+ \d{4} \d{2}:\d{2}( UTC)?"),
)
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
LISTED = 20
"""Differences listed before the rest are only counted."""


def mask(value: Any) -> Any:
    """`value` with run IDs and times replaced by placeholders, recursively through lists and dicts."""
    if isinstance(value, str):
        text = _ORGANIZATION_IDS.sub("<ou-id>", _RUN_ID.sub("<run-id>", value))
        for pattern in _TIMES:
            text = pattern.sub("<time>", text)
        return text
    if isinstance(value, datetime | time | timedelta):
        return "<time>"
    if isinstance(value, list):
        return [mask(item) for item in value]
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    return value


def _one(folder: Path, suffix: str) -> Path:
    found = sorted(folder.glob(f"*{suffix}"))
    if len(found) != 1:
        raise SystemExit(f"{folder}: expected one *{suffix} file, found {len(found)}")
    return found[0]


def workbook_differences(before: Path, after: Path) -> Iterator[str]:
    """What differs between two workbooks: sheets, cell values, cell styles and types, links, charts."""
    old, new = CalamineWorkbook.from_path(str(before)), CalamineWorkbook.from_path(str(after))
    if old.sheet_names != new.sheet_names:
        yield f"sheets: {old.sheet_names} != {new.sheet_names}"
        return
    for name in old.sheet_names:
        yield from _rows(
            name, old.get_sheet_by_name(name).to_python(), new.get_sheet_by_name(name).to_python()
        )
    old_parts, new_parts = _parts(before), _parts(after)
    for part in sorted(old_parts.keys() | new_parts.keys()):
        if old_parts.get(part) != new_parts.get(part):
            yield f"{part}: differs (cell styles or types, links, print setup or charts)"


def _rows(sheet: str, old: Sequence[Sequence[Any]], new: Sequence[Sequence[Any]]) -> Iterator[str]:
    if len(old) != len(new):
        yield f"{sheet}: {len(old)} rows != {len(new)} rows"
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if mask(list(a)) != mask(list(b)):
            yield f"{sheet} row {number}: {mask(list(a))} != {mask(list(b))}"


def _parts(path: Path) -> dict[str, str]:
    """Each sheet's cell layout (reference, style, type; values are compared apart) and each chart,
    keyed by sheet name or chart part, with run IDs and times masked."""
    parts: dict[str, str] = {}
    with zipfile.ZipFile(path) as archive:
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
        for sheet in book.iter(f"{_MAIN}sheet"):
            xml = ElementTree.fromstring(archive.read("xl/" + targets[sheet.get(_REL)]))  # noqa: S314
            cells = [(c.get("r"), c.get("s"), c.get("t")) for c in xml.iter(f"{_MAIN}c")]
            links = [(h.get("ref"), h.get("location"), h.get(_REL)) for h in xml.iter(f"{_MAIN}hyperlink")]
            setup = [ElementTree.tostring(e, encoding="unicode") for e in xml if e.tag != f"{_MAIN}sheetData"]
            parts[f"sheet {sheet.get('name')}"] = mask(json.dumps([cells, links, setup]))
        for name in archive.namelist():
            if name.startswith(("xl/charts/", "xl/styles.xml")):
                parts[name] = mask(archive.read(name).decode())
    return parts


def snapshot_differences(before: Path, after: Path) -> Iterator[str]:
    """What differs between two snapshots, section by section (`run` aside: it is the run's identity)."""
    old, new = (json.loads(gzip.decompress(path.read_bytes())) for path in (before, after))
    for section in sorted((old.keys() | new.keys()) - {"run"}):
        a, b = mask(old.get(section)), mask(new.get(section))
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list):
            yield f"snapshot {section}: {len(a)} rows != {len(b)} rows" if len(a) != len(b) else ""
            for number, (x, y) in enumerate(zip(a, b, strict=False), start=1):
                if x != y:
                    yield f"snapshot {section} row {number}: {x} != {y}"
        else:
            yield f"snapshot {section}: {a} != {b}"


def main(argv: Sequence[str] | None = None) -> int:
    """Compare the runs in two folders; print the differences, or that there are none."""
    parser = argparse.ArgumentParser(
        prog="python tools/compare_reports.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("before", type=Path, help="folder with the first run's .xlsx and .snapshot.json.gz")
    parser.add_argument("after", type=Path, help="folder with the second run's files")
    args = parser.parse_args(argv)
    differences = [
        d
        for d in (
            *workbook_differences(_one(args.before, ".xlsx"), _one(args.after, ".xlsx")),
            *snapshot_differences(
                _one(args.before, ".snapshot.json.gz"), _one(args.after, ".snapshot.json.gz")
            ),
        )
        if d
    ]
    for line in differences[:LISTED]:
        print(line)
    if len(differences) > LISTED:
        print(f"… and {len(differences) - LISTED} more differences")
    if differences:
        return 1
    print(f"same reports: {args.before} and {args.after} (run IDs and times aside)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
