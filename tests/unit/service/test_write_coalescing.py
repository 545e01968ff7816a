"""CoalescingTransport: the writes of one loop iteration leave as one, in order, and none is lost on close; the
worker's uvicorn configuration serving the real app sends each response with one socket send."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from service.app import create_app
from service.settings import Settings
from service.worker import AnsweringUvicornWorker
from service.write_coalescing import WRITE_NOW_BYTES, CoalescingTransport
from tests.example_request import EXAMPLE


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


@dataclass
class SendsTo:
    """How many socket sends the server made from its port (its side of its connections)."""

    port: int
    count: int = 0


@pytest.fixture
def server_sends(models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SendsTo]:
    """uvicorn with the worker's own settings (CONFIG_KWARGS) serving the real app, its socket sends counted.

    The listening socket is bound to a port the kernel picks and stays open, so no other process can take it;
    clients may connect at once, the kernel queues them until the server accepts.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    sends = SendsTo(listener.getsockname()[1])
    real_send = socket.socket.send

    def counted_send(sock: socket.socket, data: bytes, *flags: int) -> int:
        if sock.getsockname()[1] == sends.port:
            sends.count += 1
        return real_send(sock, data, *flags)

    # asyncio's socket transport sends with socket.send; the test's client (http.client) uses sendall.
    monkeypatch.setattr(socket.socket, "send", counted_send)
    settings = Settings(embedded_model_path=models_dir, external_model_path=tmp_path / "absent")
    config = uvicorn.Config(create_app(settings), log_config=None, **AnsweringUvicornWorker.CONFIG_KWARGS)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=asyncio.run, args=(server.serve(sockets=[listener]),))
    thread.start()
    try:
        yield sends
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert not thread.is_alive(), "the server did not stop"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/predict_onnx", EXAMPLE, 200),
        ("POST", "/predict_onnx", {**EXAMPLE, "nsm": 86400}, 422),
        ("POST", "/predict_onnx/batch", {"predictions": [EXAMPLE] * 100}, 200),
        ("GET", "/health", None, 200),
    ],
    ids=["hot-path", "invalid", "batch", "health"],
)
def test_the_live_protocol_sends_each_response_in_one_send(
    server_sends: SendsTo, method: str, path: str, body: object, status: int
) -> None:
    # Generous: the first request waits for the lifespan to load the models; the timeout only bounds a hang.
    connection = http.client.HTTPConnection("127.0.0.1", server_sends.port, timeout=60)
    content = None if body is None else json.dumps(body).encode()
    headers = {} if body is None else {"content-type": "application/json"}
    try:
        for _ in range(3):  # one keep-alive connection
            before = server_sends.count
            connection.request(method, path, body=content, headers=headers)
            response = connection.getresponse()
            response.read()  # all of it arrived, so every send of this response has been made

            assert response.status == status
            assert server_sends.count - before == 1
    finally:
        connection.close()
