"""The image's command (`python -m service.serve`, gunicorn on the app factory) run for real, without Docker."""

from __future__ import annotations

import http.client
import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.example_request import EXAMPLE
from tests.unit.service.server_process import Server

StartServer = Callable[..., Server]


def test_bad_setting_exits_78_with_one_line_naming_the_variable(start_server: StartServer) -> None:
    server = start_server(MODEL_TYPE="xgboost")

    assert server.wait_exit() == 78  # EX_CONFIG, the status operators are told of (docker/README.md)
    output = server.output()
    assert "cannot start: MODEL_TYPE='xgboost': expected one of lightgbm, lightgbm_ensemble" in output
    assert "Traceback" not in output
    assert "Booting worker" not in output, "settings must be refused before any worker starts"


def test_no_valid_model_exits_3_with_one_reason_and_no_traceback(start_server: StartServer, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    server = start_server(EMBEDDED_MODEL_PATH=str(empty))

    assert server.wait_exit() == 3  # gunicorn's "worker failed to boot", not 78: the two causes differ
    output = server.output()
    reasons = {line.split("cannot start: ", 1)[1] for line in output.splitlines() if "cannot start: " in line}
    assert len(reasons) == 1, output
    assert f"embedded model directory {empty} is invalid: missing metadata file" in reasons.pop()
    assert "Traceback" not in output, output


def test_each_worker_serves_from_the_factory(start_server: StartServer) -> None:
    server = start_server()
    server.wait_healthy()
    request = urllib.request.Request(
        f"{server.url}/predict_onnx", data=json.dumps(EXAMPLE).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["predicted_usage_kwh"] > 0
    deadline = time.monotonic() + 30
    while server.output().count("Application startup complete") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.output().count("Application startup complete") == 2, server.output()


def test_past_worker_connections_requests_get_503_at_once_and_the_connection_closes(
    start_server: StartServer,
) -> None:
    """uvicorn's limit_concurrency, as gunicorn's worker_connections: fewer than that many connections serve."""
    server = start_server(WEB_CONCURRENCY="1", WORKER_CONNECTIONS="2")
    server.wait_healthy()
    held = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    extra = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        held.request("GET", "/health")
        assert held.getresponse().status == 200
        extra.request("GET", "/health")
        shed = extra.getresponse()
        shed.read()
        assert (shed.status, shed.getheader("connection")) == (503, "close")
    finally:
        held.close()
        extra.close()
    server.wait_healthy()  # serves again once the worker has noticed the closed connections
    assert server.output().count("Exceeded concurrency limit. Answered 503 (0 more") == 1
