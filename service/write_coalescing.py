"""One send per response: uvicorn's httptools protocol with the writes of one loop iteration joined.

uvicorn writes a response's head and its body with two `transport.write` calls, so each small answer costs two
`send` system calls and two TCP segments, each one processed by the kernel on both ends. Measured with one
worker on one CPU, joining them serves about 17 % more single predictions per second
(benchmarks/README.md, Throughput). uvicorn takes a protocol class as its `http` setting; this one hands its
connections a transport that gathers what is written during one event-loop iteration and sends it at the end of
that iteration, or at once past WRITE_NOW_BYTES so a large body is not held in memory.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

WRITE_NOW_BYTES: Final[int] = 64 * 1024


class CoalescingTransport:
    """A transport that joins the writes made during one loop iteration into one write of `transport`."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue `data`; the first queued write schedules the flush at the end of this loop iteration."""
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(bytes(data))
        self._pending_bytes += len(data)
        if self._pending_bytes >= WRITE_NOW_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write what is queued, as one write, unless the connection is already closing."""
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        """Send what is queued, then close: a response written just before a close still goes out."""
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        """Drop what is queued and abort the connection."""
        self._pending.clear()
        self._pending_bytes = 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a CoalescingTransport."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        super().connection_made(CoalescingTransport(transport))  # type: ignore[arg-type]
