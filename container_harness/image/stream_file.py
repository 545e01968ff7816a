"""A read-only file object over an iterator of byte chunks, so tarfile can stream Docker's archives."""

from __future__ import annotations

import io
from collections.abc import Iterable


class StreamFile(io.RawIOBase):
    """Reads the chunks of an iterable in order; `tarfile.open(mode="r|")` needs nothing more."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        """Fill `target` from the buffered chunk, fetching the next one when empty (0 at the end)."""
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = memoryview(chunk)
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]  # a view: no copying of the rest
        return size
