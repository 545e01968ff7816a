"""The hot path: the same answers as the FastAPI route, and everything it does not take handed over intact."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.app import create_app
from service.hot_path import Answer, HotPath
from service.settings import Settings
from tests.example_request import EXAMPLE, varied_requests

PATH = "/predict_onnx"
ANSWER = b'{"answered": "by the hot path"}'
BODY = json.dumps(EXAMPLE).encode()


JSON = {"content-type": "application/json"}
# A charset parameter is a content type the hot path leaves to FastAPI's route.
JSON_CHARSET = {"content-type": "application/json; charset=utf-8"}


class ReachedFastAPI:
    """ASGI middleware added through FastAPI's public add_middleware: records each request FastAPI's stack got."""

    def __init__(self, app: ASGIApp, reached: list[str]) -> None:
        self.app = app
        self._reached = reached

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self._reached.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def reached_fastapi() -> list[str]:
    """The requests that reached FastAPI's stack in `client`, `METHOD path` each; a test clears it first."""
    return []


@pytest.fixture(scope="module")
def settings(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The embedded models; the external mount point does not exist."""
    return Settings(embedded_model_path=models_dir, external_model_path=tmp_path_factory.mktemp("none"))


@pytest.fixture(scope="module")
def client(settings: Settings, reached_fastapi: list[str]) -> Iterator[TestClient]:
    """The real app on the embedded models, recording which requests reached FastAPI's stack."""
    app = create_app(settings)
    app.add_middleware(ReachedFastAPI, reached=reached_fastapi)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_app_puts_the_hot_path_in_front_of_fastapi(client: TestClient) -> None:
    assert isinstance(client.app.build_middleware_stack(), HotPath)  # type: ignore[attr-defined]


def test_the_hot_path_answers_byte_for_byte_what_the_fastapi_route_answers(
    client: TestClient, reached_fastapi: list[str]
) -> None:
    for request in varied_requests(40):
        body = json.dumps(request)
        reached_fastapi.clear()
        hot = client.post(PATH, content=body, headers=JSON)
        assert reached_fastapi == [], "the hot path should have answered"
        routed = client.post(PATH, content=body, headers=JSON_CHARSET)
        assert reached_fastapi == [f"POST {PATH}"], "FastAPI's route should have answered"

        assert (hot.status_code, hot.content) == (routed.status_code, routed.content)
        assert hot.headers["content-type"] == routed.headers["content-type"] == "application/json"
        assert hot.json()["predicted_usage_kwh"] > 0


def test_the_real_app_answers_a_valid_prediction_in_front_of_fastapi(
    client: TestClient, reached_fastapi: list[str]
) -> None:
    reached_fastapi.clear()

    response = client.post(PATH, content=BODY, headers=JSON)

    assert response.status_code == 200
    assert response.json()["predicted_usage_kwh"] > 0
    assert reached_fastapi == []


@pytest.mark.parametrize(
    ("method", "path", "content", "headers", "status"),
    [
        ("POST", PATH, json.dumps({**EXAMPLE, "nsm": 86400}), JSON, 422),
        ("POST", PATH, BODY[:-1], JSON, 422),
        ("POST", PATH, BODY, {"content-type": "text/plain"}, 422),
        ("POST", PATH, BODY, JSON_CHARSET, 200),
        ("POST", PATH, BODY[:-1] + b" " * Settings().max_body_bytes + b"}", JSON, 413),
        ("POST", "/predict_onnx/batch", json.dumps({"predictions": [EXAMPLE]}), JSON, 200),
        ("GET", "/health", None, {}, 200),
        ("GET", PATH, None, {}, 405),
    ],
    ids=["invalid", "not-json", "text-plain", "charset", "over-the-limit", "batch", "health", "get"],
)
def test_the_real_app_leaves_every_other_request_to_fastapi(
    client: TestClient,
    reached_fastapi: list[str],
    method: str,
    path: str,
    content: str | bytes | None,
    headers: dict[str, str],
    status: int,
) -> None:
    reached_fastapi.clear()

    response = client.request(method, path, content=content, headers=headers)

    assert response.status_code == status
    assert reached_fastapi == [f"{method} {path}"]


def test_an_error_in_the_hot_path_gets_the_500_and_the_log_line_fastapi_gives(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The hot path sits in front of FastAPI's ServerErrorMiddleware and exception handlers; its errors reach them."""

    def fail(raw: object) -> object:
        raise RuntimeError("the model failed")

    # The one stand-in of this module: a real model set does not fail on a valid request.
    predictor = client.app.state.serving.loaded.model_set.predictor  # type: ignore[attr-defined]
    monkeypatch.setattr(predictor, "predict", fail)
    caplog.set_level(logging.ERROR, logger="service.app")

    def answer(headers: dict[str, str]) -> tuple[int, str, bytes, list[str]]:
        caplog.clear()
        response = client.post(PATH, content=BODY, headers=headers)
        lines = [record.getMessage() for record in caplog.records if record.name == "service.app"]
        return response.status_code, response.headers["content-type"], response.content, lines

    through_the_hot_path, through_fastapi = answer(JSON), answer(JSON_CHARSET)

    logged_500 = (
        500,
        "application/json",
        b'{"detail":"internal server error"}',
        [f"unexpected RuntimeError on POST {PATH}"],
    )
    assert through_the_hot_path == through_fastapi == logged_500


class Inner:
    """A stand-in for the FastAPI stack that records what reaches it and the body it reads."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 422, "headers": []})
        await send({"type": "http.response.body", "body": b"inner"})


def call(
    hot_path: HotPath,
    chunks: list[bytes],
    method: str = "POST",
    path: str = PATH,
    content_type: bytes = b"application/json",
    length: int | None = None,
) -> list[Message]:
    """Run one request through `hot_path`; the messages it sent."""
    headers = [
        (b"content-type", content_type),
        (b"content-length", b"%d" % sum(map(len, chunks)) if length is None else b"%d" % length),
    ]
    scope: Scope = {"type": "http", "method": method, "path": path, "headers": headers}
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(hot_path(scope, receive, send))
    return sent


def answered(body: bytes) -> bytes | None:
    return ANSWER


def invalid(body: bytes) -> bytes | None:
    return None


def failing(body: bytes) -> bytes | None:
    raise RuntimeError("the model failed")


def hot_path_over(inner: Inner, answer: Answer = answered) -> HotPath:
    return HotPath(inner, PATH, answer, max_body=1024)


def test_a_valid_body_is_answered_without_fastapi() -> None:
    inner = Inner()

    sent = call(hot_path_over(inner), [BODY[:10], BODY[10:]])

    assert inner.bodies == []
    assert sent[0]["status"] == 200
    assert dict(sent[0]["headers"]) == {b"content-type": b"application/json", b"content-length": b"%d" % len(ANSWER)}
    assert sent[1]["body"] == ANSWER


@pytest.mark.parametrize("answer", [invalid, failing], ids=["does-not-validate", "raises"])
def test_fastapi_gets_the_whole_body_again_when_the_hot_path_cannot_answer(answer: Answer) -> None:
    inner = Inner()

    sent = call(hot_path_over(inner, answer), [BODY[:10], BODY[10:]])

    assert inner.bodies == [BODY]
    assert sent[0]["status"] == 422


@pytest.mark.parametrize(
    ("method", "path", "content_type", "length"),
    [
        ("GET", PATH, b"application/json", None),
        ("POST", "/predict_onnx/batch", b"application/json", None),
        ("POST", PATH, b"text/plain", None),
        ("POST", PATH, b"application/json; charset=utf-8", None),
        ("POST", PATH, b"application/json", 4096),
    ],
    ids=["get", "other-path", "not-json", "charset", "over-the-limit"],
)
def test_requests_it_does_not_take_reach_fastapi_untouched(
    method: str, path: str, content_type: bytes, length: int | None
) -> None:
    inner = Inner()

    sent = call(hot_path_over(inner), [BODY], method=method, path=path, content_type=content_type, length=length)

    assert inner.bodies == [BODY]
    assert sent[0]["status"] == 422
