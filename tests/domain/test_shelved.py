"""Lists in chunks, in memory or on a shelf: a sequence like a tuple, whichever way they are kept."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace

from config_report.domain.model import AccountScan, Finding
from config_report.domain.shelved import (
    CHUNK,
    Shelved,
    ShelvedBuilder,
    mapped,
    shelf_of,
    shelved_like,
    shelved_of,
)
from factories import PROD, finding


class CountingShelf:
    """A shelf in a dict that counts what is put and read: enough to see where chunks live."""

    def __init__(self) -> None:
        self.kept: dict[int, tuple[Finding, ...]] = {}
        self.reads = 0

    def put(self, chunk: tuple[Finding, ...]) -> Hashable:
        self.kept[len(self.kept)] = chunk
        return len(self.kept) - 1

    def get(self, key: Hashable) -> tuple[Finding, ...]:
        self.reads += 1
        assert isinstance(key, int)
        return self.kept[key]


def _many(count: int) -> list[Finding]:
    return [finding(PROD, "s3-bucket-public-read-prohibited", f"bucket-{n:06d}") for n in range(count)]


def test_findings_on_a_shelf_read_back_in_order_and_equal_the_tuple_they_came_from() -> None:
    items = _many(2 * CHUNK + 7)
    shelf = CountingShelf()
    kept = shelved_of(items, shelf)
    assert len(kept) == len(items)
    assert list(kept) == items
    assert kept == tuple(items)
    assert kept[CHUNK] == items[CHUNK]
    assert [len(chunk) for chunk in shelf.kept.values()] == [CHUNK, CHUNK, 7]


def test_only_full_chunks_leave_the_builder_until_it_is_done() -> None:
    shelf = CountingShelf()
    builder: ShelvedBuilder[Finding] = ShelvedBuilder(shelf)
    builder.extend(_many(CHUNK + 1))
    assert len(shelf.kept) == 1
    assert len(builder.done()) == CHUNK + 1
    assert len(shelf.kept) == 2


def test_walking_shelved_findings_reads_each_chunk_once_when_it_is_needed() -> None:
    shelf = CountingShelf()
    kept = shelved_of(_many(3 * CHUNK), shelf)
    walk = iter(kept)
    next(walk)
    assert shelf.reads == 1
    assert sum(1 for _ in walk) == 3 * CHUNK - 1
    assert shelf.reads == 3


def test_a_stage_built_from_shelved_findings_keeps_its_result_on_the_same_shelf() -> None:
    shelf = CountingShelf()
    scan = AccountScan(account=PROD, findings=shelved_of(_many(10), shelf))
    marked = replace(
        scan, findings=shelved_like(scan.findings, (replace(f, annotation="x") for f in scan.findings))
    )
    assert shelf_of(marked.findings) is shelf
    assert {f.annotation for f in marked.findings} == {"x"}


def test_a_scan_given_a_tuple_holds_findings_in_memory() -> None:
    items = _many(3)
    scan = AccountScan(account=PROD, findings=tuple(items))
    assert isinstance(scan.findings, Shelved)
    assert shelf_of(scan.findings) is None
    assert scan.findings == tuple(items)
    assert scan == AccountScan(account=PROD, findings=items)


def test_a_stage_that_changes_nothing_in_a_chunk_does_not_write_it_again() -> None:
    shelf = CountingShelf()
    kept = shelved_of(_many(2 * CHUNK), shelf)
    first_of_second_chunk = kept[CHUNK]

    def annotate_one(f: Finding) -> Finding:
        return replace(f, annotation="changed") if f == first_of_second_chunk else f

    changed = mapped(kept, annotate_one)

    assert len(shelf.kept) == 3  # the two chunks, then the second one again, changed
    assert [f.annotation for f in changed].count("changed") == 1
    assert mapped(changed, lambda f: f) == changed
    assert len(shelf.kept) == 3
