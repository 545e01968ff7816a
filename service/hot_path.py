"""The single-prediction hot path as plain ASGI: a well-formed request skips FastAPI's per-request machinery.

Profiled under load (one worker, one CPU), FastAPI's middleware, routing, dependency solving and exception
layers cost more CPU per single prediction than the three ONNX sessions. This wrapper, in front of the whole
FastAPI stack, answers a `POST` of valid JSON within the body limit to one path itself, through the same
function as the FastAPI route. Every other request goes to FastAPI unchanged, and so does a body that does not
validate or whose answer raises (the body replayed): FastAPI then words the 422, answers the 413 or logs the
500 exactly as without this wrapper, and the OpenAPI schema stays FastAPI's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_CONTENT_TYPE: Final[bytes] = b"application/json"

# The answer to a body, or None when the body does not validate and FastAPI should word the error.
Answer = Callable[[bytes], bytes | None]


class HotPath:
    """ASGI: `POST path`, `Content-Type: application/json`, at most `max_body` bytes, answered by `answer`."""

    def __init__(self, app: ASGIApp, path: str, answer: Answer, max_body: int) -> None:
        self.app = app
        self._path = path
        self._answer = answer
        self._max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._takes(scope):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        try:
            answer = self._answer(body)
        except Exception:  # FastAPI answers it again and handles the error as it does for every route
            answer = None
        if answer is None:
            await self.app(scope, _replay(body, receive), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", JSON_CONTENT_TYPE), (b"content-length", b"%d" % len(answer))],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    def _takes(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self._path:
            return False
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        return (
            headers.get(b"content-type", b"").lower() == JSON_CONTENT_TYPE
            and length.isdigit()
            and int(length) <= self._max_body
        )


async def _read_body(receive: Receive) -> bytes:
    """The whole request body (usually one message)."""
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while message.get("more_body", False):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands `body` over once, then defers to the connection's (for the disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
