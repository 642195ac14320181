"""The run's findings and rule results on local disk: the `Shelf` that keeps a large report's memory
bounded.

A run puts each account's findings and rules here as it gets them (from the scan, a shard's part or last
week's snapshot) and every later stage reads them back a chunk at a time (`domain.shelved`). The file is
an anonymous temporary file in the pod's writable `/tmp`: it is unlinked as soon as it is created, so it
leaves nothing behind, even when the process is killed.

Chunks are pickled because this process is the only writer and the only reader of that unlinked file,
which no other process can open; nothing read from AWS or S3 is ever unpickled. Each item (a frozen
dataclass) is pickled as the tuple of its fields, and so is each dataclass its fields hold (a finding's
owner, its acceptance); each is restored by setting its fields, as unpickling does, without running
`__init__`. Pickle's own way with a slotted dataclass looks its fields up again for every object, which
made reading a finding back with its owner take three times as long.
"""

from __future__ import annotations

import io
import pickle
import tempfile
import threading
import typing
import weakref
import zlib
from collections.abc import Callable, Hashable, Iterator
from dataclasses import fields, is_dataclass
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from types import TracebackType
from typing import Any, cast

# zlib's fastest level: the file shrinks about four times at a small share of the pickling's cost.
_LEVEL = 1


class Spool:
    """A `domain.shelved.Shelf` in one temporary file; usable from several threads."""

    def __init__(self, folder: Path | None = None) -> None:
        # Open for the spool's life, closed by `close` (or the `with` block around the run).
        self._file = tempfile.TemporaryFile(dir=folder, prefix="config-report-spool-")  # noqa: SIM115
        # A report read from the spool may outlive the run that made it (a test, the demo): the file
        # is closed when the last report holding the spool is gone, if `close` was not called first.
        self._closed = weakref.finalize(self, self._file.close)
        self._lock = threading.Lock()
        self._end = 0
        self.chunks = 0

    def put(self, chunk: tuple[Any, ...]) -> Hashable:
        """Write `chunk` (frozen dataclasses of one type) at the end of the file; the key is where it lies."""
        kind = type(chunk[0])
        layout = _layout(kind)
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = layout.reducers
        pickler.dump((kind, [layout.values(item) for item in chunk]))
        data = zlib.compress(buffer.getbuffer(), _LEVEL)
        with self._lock:
            self._file.seek(self._end)
            self._file.write(data)
            key = (self._end, len(data))
            self._end += len(data)
            self.chunks += 1
        return key

    def get(self, key: Hashable) -> tuple[Any, ...]:
        """The chunk written under `key`."""
        offset, size = cast(tuple[int, int], key)  # the (offset, size) pair `put` returned
        with self._lock:
            self._file.seek(offset)
            data = self._file.read(size)
        kind, rows = pickle.loads(zlib.decompress(data))  # noqa: S301
        restore = _layout(kind).restore
        return tuple(restore(row) for row in rows)

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._end

    def close(self) -> None:
        """Release the file (its space is freed: it has no name)."""
        self._closed()

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class _Layout:
    """How one dataclass is taken apart into the tuple of its fields, and put back together."""

    def __init__(self, kind: type) -> None:
        self.kind = kind
        names = tuple(f.name for f in fields(kind))
        many = attrgetter(*names)
        self.values: Callable[[Any], tuple[Any, ...]] = many if len(names) > 1 else lambda item: (many(item),)
        slots = getattr(kind, "__slots__", ())
        # A slotted class's fields are set through their slot descriptors (frozen only guards `setattr`).
        self._setters = tuple(
            vars(kind)[name].__set__ if name in slots else _object_setter(name) for name in names
        )

    def restore(self, values: tuple[Any, ...]) -> Any:
        """An instance holding `values`, made without running `__init__` (as unpickling does)."""
        item: Any = object.__new__(self.kind)
        for setter, value in zip(self._setters, values, strict=True):
            setter(item, value)
        return item

    def reduce(self, item: Any) -> tuple[Callable[[type, tuple[Any, ...]], Any], tuple[Any, ...]]:
        """Pickle's reduction of a nested item: restored from its fields' values."""
        return _restored, (self.kind, self.values(item))

    @cached_property
    def reducers(self) -> dict[type, Callable[[Any], Any]]:
        """The pickler's reductions for every dataclass the fields can hold, by their annotations;
        whatever else they hold is pickled as pickle does. Worked out when first needed: a dataclass
        may hold its own kind."""
        return {each: _layout(each).reduce for each in _dataclasses_within(self.kind, set())}


def _object_setter(name: str) -> Callable[[Any, Any], None]:
    return lambda item, value: object.__setattr__(item, name, value)


def _restored(kind: type, values: tuple[Any, ...]) -> Any:
    """Unpickling's call for a nested dataclass (it must be a module-level function)."""
    return _layout(kind).restore(values)


# Filled as kinds are met; two threads meeting a new kind at once build the same entry twice, harmlessly.
_layouts: dict[type, _Layout] = {}


def _layout(kind: type) -> _Layout:
    found = _layouts.get(kind)
    if found is None:
        found = _layouts[kind] = _Layout(kind)
    return found


def _dataclasses_within(kind: type, seen: set[type]) -> Iterator[type]:
    try:
        hints = typing.get_type_hints(kind)
    except (NameError, TypeError):  # an annotation that does not resolve: pickled the usual way
        return
    for name in (f.name for f in fields(kind)):
        for found in _types_in(hints.get(name)):
            if is_dataclass(found) and found not in seen:
                seen.add(found)
                yield found
                yield from _dataclasses_within(found, seen)


def _types_in(hint: Any) -> Iterator[type]:
    if isinstance(hint, type):
        yield hint
    for argument in typing.get_args(hint):
        yield from _types_in(argument)
