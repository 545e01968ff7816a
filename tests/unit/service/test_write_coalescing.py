"""CoalescingTransport: the writes of one loop iteration leave as one, in order, and none is lost on close."""

from __future__ import annotations

import asyncio

from service.write_coalescing import WRITE_NOW_BYTES, CoalescingTransport


class Recording(asyncio.Transport):
    """A transport that records each write it gets, and whether it was closed or aborted."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 8000) if name == "sockname" else default


async def next_iteration() -> None:
    await asyncio.sleep(0)


def test_a_head_and_a_body_written_together_leave_in_one_write() -> None:
    async def scenario() -> Recording:
        inner = Recording()
        transport = CoalescingTransport(inner)
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"{}")
        assert inner.writes == []
        await next_iteration()
        transport.write(b"next")
        await next_iteration()
        return inner

    inner = asyncio.run(scenario())

    assert inner.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", b"next"]


def test_close_sends_what_is_queued_first_and_abort_drops_it() -> None:
    async def scenario(end: str) -> Recording:
        inner = Recording()
        transport = CoalescingTransport(inner)
        transport.write(b"503 answer")
        getattr(transport, end)()
        await next_iteration()
        return inner

    closed = asyncio.run(scenario("close"))
    aborted = asyncio.run(scenario("abort"))

    assert (closed.writes, closed.closed) == ([b"503 answer"], True)
    assert (aborted.writes, aborted.aborted) == ([], True)


def test_a_large_body_is_written_at_once_not_held() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        inner = Recording()
        transport = CoalescingTransport(inner)
        transport.write(b"head")
        transport.write(b"x" * WRITE_NOW_BYTES)
        before_the_loop_turns = list(inner.writes)
        await next_iteration()
        return before_the_loop_turns, inner.writes

    before_the_loop_turns, in_the_end = asyncio.run(scenario())

    assert before_the_loop_turns == [b"head" + b"x" * WRITE_NOW_BYTES]
    assert in_the_end == before_the_loop_turns  # the flush scheduled for the iteration's end finds nothing left


def test_everything_else_is_the_wrapped_transport() -> None:
    inner = Recording()

    assert CoalescingTransport(inner).get_extra_info("sockname") == ("127.0.0.1", 8000)
