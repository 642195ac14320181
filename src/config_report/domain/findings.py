"""A list of findings that need not fit in memory: a large organization has millions of them.

`Findings` is an immutable sequence of findings kept in chunks of `CHUNK`. Without a shelf the chunks are
tuples in memory (small runs, tests). With one (`store.spool.FindingSpool`, a temporary file) each chunk is
written to the shelf as it is built and read back one at a time while the findings are walked, so a stage
that walks a whole report holds one account's findings, or one chunk, never the organization's.

The domain's stages build their results with `findings_like(source, items)`, which keeps them on the
shelf their source is on: the app decides where findings live, once, and every stage follows.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, overload

if TYPE_CHECKING:
    from config_report.domain.model import Finding

CHUNK = 5_000
"""Findings per chunk: the most a walk through a shelved list holds in memory at once."""


class Shelf(Protocol):
    """Where chunks of findings are kept out of memory until they are read again."""

    def put(self, chunk: tuple[Finding, ...]) -> Hashable:
        """Keep `chunk`; return the key that reads it back."""
        ...

    def get(self, key: Hashable) -> tuple[Finding, ...]:
        """The chunk kept under `key`."""
        ...


class Findings(Sequence["Finding"]):
    """An immutable sequence of findings, in chunks held in memory or on a `Shelf`."""

    __slots__ = ("_chunks", "_count", "shelf")

    def __init__(self, chunks: tuple[Hashable, ...] = (), count: int = 0, shelf: Shelf | None = None) -> None:
        self._chunks = chunks
        self._count = count
        self.shelf = shelf

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Finding]:
        for chunk in self._chunks:
            yield from self._read(chunk)

    def chunks(self) -> Iterator[tuple[Finding, ...]]:
        """The findings a chunk at a time (each read from the shelf when it is needed)."""
        return (self._read(chunk) for chunk in self._chunks)

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Finding, ...]: ...

    def __getitem__(self, index: int | slice) -> Finding | tuple[Finding, ...]:
        # Indexing reads everything: for a person at a prompt and for tests, never for a stage.
        return tuple(self)[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        where = "on a shelf" if self.shelf is not None else "in memory"
        return f"Findings({self._count:,} {where})"

    def _read(self, chunk: Hashable) -> tuple[Finding, ...]:
        if self.shelf is None:
            return chunk  # type: ignore[return-value]  # in memory, a chunk is its tuple
        return self.shelf.get(chunk)


class FindingsBuilder:
    """Collects findings one by one into `Findings`, putting each full chunk on the shelf at once."""

    def __init__(self, shelf: Shelf | None = None) -> None:
        self._shelf = shelf
        self._chunks: list[Hashable] = []
        self._pending: list[Finding] = []
        self._count = 0

    def add(self, finding: Finding) -> None:
        """Add one finding after the others."""
        self._pending.append(finding)
        if len(self._pending) == CHUNK:
            self.flush()

    def extend(self, findings: Iterable[Finding]) -> None:
        """Add each of `findings`, in order."""
        for finding in findings:
            self.add(finding)

    def done(self) -> Findings:
        """Everything added, as `Findings`."""
        self.flush()
        return Findings(tuple(self._chunks), self._count, self._shelf)

    def flush(self) -> None:
        """Put what is pending on the shelf now, as a chunk of its own (however few)."""
        if self._pending:
            chunk = tuple(self._pending)
            self._chunks.append(self._shelf.put(chunk) if self._shelf is not None else chunk)
            self._count += len(chunk)
            self._pending = []


def findings_of(items: Iterable[Finding], shelf: Shelf | None = None) -> Findings:
    """`items` as `Findings`, each chunk put on `shelf` as soon as it is full (kept in memory without one)."""
    if isinstance(items, Findings) and items.shelf is shelf:
        return items
    builder = FindingsBuilder(shelf)
    builder.extend(items)
    return builder.done()


def shelf_of(findings: Iterable[Finding]) -> Shelf | None:
    """The shelf `findings` are kept on; None when they are in memory."""
    return findings.shelf if isinstance(findings, Findings) else None


def findings_like(source: Iterable[Finding], items: Iterable[Finding]) -> Findings:
    """`items` kept where `source` is kept: on its shelf, or in memory."""
    return findings_of(items, shelf_of(source))
