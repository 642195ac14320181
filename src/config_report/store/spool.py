"""The run's findings on local disk: the `Shelf` that keeps a large report's memory bounded.

A run puts each account's findings here as it gets them (from the scan, a shard's part or last week's
snapshot) and every later stage reads them back a chunk at a time (`domain.findings`). The file is an
anonymous temporary file in the pod's writable `/tmp`: it is unlinked as soon as it is created, so it
leaves nothing behind, even when the process is killed.

Chunks are pickled because this process is the only writer and the only reader of that unlinked file,
which no other process can open; nothing read from AWS or S3 is ever unpickled. Each finding is pickled
as the tuple of its fields, which is about twice as fast both ways as pickling the dataclass.
"""

from __future__ import annotations

import pickle
import tempfile
import threading
import weakref
import zlib
from collections.abc import Hashable
from pathlib import Path
from types import TracebackType
from typing import cast

from config_report.domain.model import Finding

# zlib's fastest level: the file shrinks about four times at a small share of the pickling's cost.
_LEVEL = 1


class FindingSpool:
    """A `domain.findings.Shelf` in one temporary file; usable from several threads."""

    def __init__(self, folder: Path | None = None) -> None:
        # Open for the spool's life, closed by `close` (or the `with` block around the run).
        self._file = tempfile.TemporaryFile(dir=folder, prefix="config-report-findings-")  # noqa: SIM115
        # A report read from the spool may outlive the run that made it (a test, the demo): the file
        # is closed when the last report holding the spool is gone, if `close` was not called first.
        self._closed = weakref.finalize(self, self._file.close)
        self._lock = threading.Lock()
        self._end = 0
        self.chunks = 0

    def put(self, chunk: tuple[Finding, ...]) -> Hashable:
        """Write `chunk` at the end of the file; the key is where it lies."""
        # Nested values (owners, acceptances) are frozen dataclasses, shared within a chunk by pickle.
        data = zlib.compress(pickle.dumps([_fields(f) for f in chunk], pickle.HIGHEST_PROTOCOL), _LEVEL)
        with self._lock:
            self._file.seek(self._end)
            self._file.write(data)
            key = (self._end, len(data))
            self._end += len(data)
            self.chunks += 1
        return key

    def get(self, key: Hashable) -> tuple[Finding, ...]:
        """The chunk written under `key`."""
        offset, size = cast(tuple[int, int], key)  # the (offset, size) pair `put` returned
        with self._lock:
            self._file.seek(offset)
            data = self._file.read(size)
        return tuple(Finding(*fields) for fields in pickle.loads(zlib.decompress(data)))  # noqa: S301

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._end

    def close(self) -> None:
        """Release the file (its space is freed: it has no name)."""
        self._closed()

    def __enter__(self) -> FindingSpool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _fields(finding: Finding) -> tuple[object, ...]:
    # Shallow: `astuple` would turn the nested dataclasses into tuples too.
    return tuple(getattr(finding, name) for name in _NAMES)


_NAMES = tuple(Finding.__dataclass_fields__)
