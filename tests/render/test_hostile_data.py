"""Property-based: any string AWS may hand us goes through the workbook and the snapshot intact.

Arbitrary unicode (control characters included), strings starting with `= + - @ \\t \\r`, names of
every length and annotations past Excel's 32,767-character cell limit: the workbook (read back with
python-calamine) holds each string exactly, or its head cut with the marker where Excel forces it,
never as a formula, and the file is never broken; the snapshot holds each string exactly.
Example counts stay modest so the suite stays quick.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from config_report.domain.model import Report
from config_report.render.xlsx.cells import EXCEL_MAX_CELL_CHARS, TRUNCATION_MARKER, fit_cell_text
from config_report.render.xlsx.workbook import write_workbook
from config_report.store.snapshot import read_snapshot, write_snapshot
from factories import PROD, finding, sample_report

# Any character but lone surrogates, which no JSON answer from AWS decodes to (nor can UTF-8 hold).
CHARACTERS = st.characters(exclude_categories=["Cs"])
HOSTILE_PREFIXES = st.sampled_from(["", "=", "+", "-", "@", "\t", "\r", "=HYPERLINK(", "@SUM("])
hostile_text = st.builds(
    lambda prefix, rest: prefix + rest, HOSTILE_PREFIXES, st.text(CHARACTERS, max_size=200)
)
# Each example writes a whole workbook (about a second on a loaded 2-core machine): few, varied ones.
EXAMPLES = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG_EXAMPLES = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG_RULE = "long-annotation-rule"


def report_with(text: str, name: str, *, rule: str | None = None) -> Report:
    """The sample report with `text` as a finding's resource ID, rule and annotation; PROD named `name`."""
    hostile = finding(PROD, text if rule is None else rule, text, annotation=text)
    report = sample_report([hostile])
    renamed = dataclasses.replace(report.scans[0].account, name=name)
    return dataclasses.replace(
        report, scans=(dataclasses.replace(report.scans[0], account=renamed), *report.scans[1:])
    )


def round_trip(report: Report) -> tuple[bytes, list[list[Any]], Report]:
    """The workbook's bytes, its findings sheet read back, and the snapshot read back."""
    with TemporaryDirectory() as folder:
        book = write_workbook(report, Path(folder) / "report.xlsx").read_bytes()
        snapshot = read_snapshot(write_snapshot(report, Path(folder) / "report.snapshot.json.gz"))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(book)).get_sheet_by_name("Non-compliant resources")
    return book, rows.to_python(), snapshot


def assert_no_formulas(book: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        assert archive.testzip() is None
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        for sheet in sheets:
            assert not re.search(rb"<f[ >]", archive.read(sheet)), f"a formula in {sheet}"


@EXAMPLES
@given(text=hostile_text, name=st.text(CHARACTERS, min_size=0, max_size=64))
def test_hostile_strings_come_back_exactly_and_never_as_formulas(text: str, name: str) -> None:
    report = report_with(text, name)
    book, rows, snapshot = round_trip(report)

    header = rows[0]
    cells = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    (ours,) = [c for c in cells if c["Account ID"] == PROD.id and c["Rule Name"] == text]
    assert (ours["Resource ID"], ours["Annotation"], ours["Account Name"]) == (text, text, name)
    assert snapshot.scans[0].account.name == name
    assert any(f.annotation == text and f.resource_id == text for f in snapshot.findings())
    assert_no_formulas(book)


@LONG_EXAMPLES
@given(length=st.integers(EXCEL_MAX_CELL_CHARS - 5, 40_000), char=CHARACTERS)
def test_annotations_past_excels_limit_are_cut_with_the_marker_and_kept_whole_in_the_snapshot(
    length: int, char: str
) -> None:
    text = char * length
    _, rows, snapshot = round_trip(report_with(text, "acme", rule=LONG_RULE))

    (annotation,) = [row[6] for row in rows[1:] if row[3] == LONG_RULE]
    assert annotation == fit_cell_text(text)
    assert len(annotation.encode("utf-16-le")) // 2 <= EXCEL_MAX_CELL_CHARS
    if len(text.encode("utf-16-le")) // 2 > EXCEL_MAX_CELL_CHARS:
        assert annotation.endswith(TRUNCATION_MARKER)
        assert text.startswith(annotation.removesuffix(TRUNCATION_MARKER))
    else:
        assert annotation == text
    assert any(f.annotation == text for f in snapshot.findings())
