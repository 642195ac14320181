"""The run's findings and rule results on local disk: the `Shelf` that keeps a large report's memory
bounded.

A run puts each account's findings and rules here as it gets them (from the scan, a shard's part or last
week's snapshot) and every later stage reads them back a chunk at a time (`domain.shelved`). The file is
an anonymous temporary file in the pod's writable `/tmp`: it is unlinked as soon as it is created, so it
leaves nothing behind, even when the process is killed.

Chunks are pickled because this process is the only writer and the only reader of that unlinked file,
which no other process can open; nothing read from AWS or S3 is ever unpickled. Each item (a frozen
dataclass) is pickled as the tuple of its fields, about twice as fast both ways as pickling the object.
"""

from __future__ import annotations

import pickle
import tempfile
import threading
import weakref
import zlib
from collections.abc import Hashable
from dataclasses import fields
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
        names = [f.name for f in fields(kind)]
        rows = [tuple(getattr(item, name) for name in names) for item in chunk]
        # Nested values (owners, acceptances, rule facts) are frozen dataclasses, shared within a chunk.
        data = zlib.compress(pickle.dumps((kind, rows), pickle.HIGHEST_PROTOCOL), _LEVEL)
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
        return tuple(kind(*row) for row in rows)

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
