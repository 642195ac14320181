"""Lists that need not fit in memory: a large organization has millions of findings and rule results.

`Shelved` is an immutable sequence kept in chunks of `CHUNK` items. Without a shelf the chunks are tuples
in memory (small runs, tests). With one (`store.spool.Spool`, a temporary file) each chunk is written to
the shelf as soon as it is full and read back one at a time while the list is walked, so a stage that
walks a whole report holds one account's findings and rules, or one chunk, never the organization's.

The domain's stages build their results with `shelved_like(source, items)`, which keeps them on the
shelf their source is on: the app decides where a report's lists live, once, and every stage follows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar, overload

CHUNK = 5_000
"""Items per chunk: the most a walk through a shelved list holds in memory at once."""

T = TypeVar("T")


class Shelf(Protocol):
    """Where chunks of items (all of one type) are kept out of memory until they are read again."""

    def put(self, chunk: tuple[Any, ...]) -> Hashable:
        """Keep `chunk`; return the key that reads it back."""
        ...

    def get(self, key: Hashable) -> tuple[Any, ...]:
        """The chunk kept under `key`."""
        ...


class Shelved(Sequence[T], Generic[T]):
    """An immutable sequence, in chunks held in memory or on a `Shelf`."""

    __slots__ = ("_chunks", "_count", "shelf")

    def __init__(self, chunks: tuple[Hashable, ...] = (), count: int = 0, shelf: Shelf | None = None) -> None:
        self._chunks = chunks
        self._count = count
        self.shelf = shelf

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[T]:
        for chunk in self._chunks:
            yield from self._items(chunk)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
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
        return f"Shelved({self._count:,} {where})"

    def mapped(self, change: Callable[[T], T]) -> Shelved[T]:
        """Each item through `change`, on the same shelf. A chunk whose items `change` all returns as
        they were is kept as it is, not written again: most stages change few items, or none."""
        chunks = []
        for chunk in self._chunks:
            items = self._items(chunk)
            changed = tuple(map(change, items))
            if all(new is old for new, old in zip(changed, items, strict=True)):
                chunks.append(chunk)
            else:
                chunks.append(self.shelf.put(changed) if self.shelf is not None else changed)
        return Shelved(tuple(chunks), self._count, self.shelf)

    def _items(self, chunk: Hashable) -> tuple[T, ...]:
        # In memory a chunk is its own tuple; on a shelf, its key.
        return chunk if self.shelf is None else self.shelf.get(chunk)  # type: ignore[return-value]


class ShelvedBuilder(Generic[T]):
    """Collects items one by one into `Shelved`, putting each full chunk on the shelf at once."""

    def __init__(self, shelf: Shelf | None = None) -> None:
        self._shelf = shelf
        self._chunks: list[Hashable] = []
        self._pending: list[T] = []
        self._count = 0

    def add(self, item: T) -> None:
        """Add one item after the others."""
        self._pending.append(item)
        if len(self._pending) >= CHUNK:
            self.flush()

    def extend(self, items: Iterable[T]) -> None:
        """Add each of `items`, in order."""
        for item in items:
            self.add(item)

    def flush(self) -> None:
        """Put what is pending on the shelf now, as a chunk of its own (however few)."""
        if self._pending:
            chunk = tuple(self._pending)
            self._chunks.append(self._shelf.put(chunk) if self._shelf is not None else chunk)
            self._count += len(chunk)
            self._pending = []

    def done(self) -> Shelved[T]:
        """Everything added, as `Shelved`."""
        self.flush()
        return Shelved(tuple(self._chunks), self._count, self._shelf)


def shelved_of(items: Iterable[T], shelf: Shelf | None = None) -> Shelved[T]:
    """`items` as `Shelved`, each chunk put on `shelf` as soon as it is full (kept in memory without one)."""
    if isinstance(items, Shelved) and items.shelf is shelf:
        return items
    builder: ShelvedBuilder[T] = ShelvedBuilder(shelf)
    builder.extend(items)
    return builder.done()


def shelf_of(items: Iterable[object]) -> Shelf | None:
    """The shelf `items` are kept on; None when they are in memory."""
    return items.shelf if isinstance(items, Shelved) else None


def shelved_like(source: Iterable[object], items: Iterable[T]) -> Shelved[T]:
    """`items` kept where `source` is kept: on its shelf, or in memory."""
    return shelved_of(items, shelf_of(source))


def mapped(source: Iterable[T], change: Callable[[T], T]) -> Shelved[T]:
    """Each item of `source` through `change`, kept where `source` is (`Shelved.mapped`)."""
    return (source if isinstance(source, Shelved) else shelved_of(source)).mapped(change)
