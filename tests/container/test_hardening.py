"""The API image locked down, under hostile input and through its life cycle, plus what the image holds.

Each test starts its own container of the configured image (labelled with the run's session) and removes it.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from container_harness.image.inspect import image_paths, matching
from container_harness.ownership import EngineSession
from container_harness.run.container import RunningContainer
from tests.example_request import EXAMPLE
from tests.hostile_requests import bad_json_bodies, blamed_fields, garbage_bodies

pytestmark = pytest.mark.container
StartApi = Callable[..., RunningContainer]  # the start_api fixture (conftest.py)

SEED = 20261126
STOP_TIMEOUT_S = 10
LOCKED_DOWN: dict[str, Any] = {
    "read_only": True,
    "tmpfs": {"/tmp": "rw,noexec,nosuid,size=16m"},
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
}
# A batch heavy enough that requests are still in flight when SIGTERM arrives.
HEAVY_TEXT = json.dumps({"predictions": [EXAMPLE] * 500})

COMPILERS = ["/usr/bin/gcc*", "/usr/bin/cc", "/usr/bin/c++", "/usr/bin/*-gcc-*", "/usr/bin/ld", "/usr/bin/as"]
DOWNLOADERS = ["/usr/bin/curl", "/usr/bin/wget", "/bin/curl", "/bin/wget"]
PIP_IN_VENV = [
    "/opt/venv/bin/pip*",
    "/opt/venv/lib/*/site-packages/pip",
    "/usr/share/python-wheels/pip-*",
    "/usr/local/lib/python3*/site-packages/pip",
    "/usr/local/bin/pip*",
]
PIP_CACHES = ["*/.cache/pip", "/root/.cache*", "/app/.cache*"]
SECRETS = ["/app/*.key", "/app/*.pem", "/app/*.env", "/app/*/.env", "/app/.env*", "/app/*id_rsa*"]


def timed_stop(running: RunningContainer) -> tuple[int, float]:
    """`docker stop` (SIGTERM, SIGKILL after STOP_TIMEOUT_S): exit code and seconds it took."""
    began = time.monotonic()
    code = running.stop(timeout_s=STOP_TIMEOUT_S)
    return code, time.monotonic() - began


def send_half_a_body(host: str, host_port: int) -> None:
    """A client that announces 1000 bytes, sends 500 and hangs up."""
    with socket.create_connection((host, host_port), timeout=5) as conn:
        conn.sendall(
            b"POST /predict_onnx HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"co2": ' + b" " * 492
        )


def test_locked_down_container_survives_400_bad_requests_and_stops_on_sigterm(start_api: StartApi) -> None:
    running = start_api(**LOCKED_DOWN)
    host = running.container.attrs["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    uid = running.container.exec_run(["python", "-c", "import os; print(os.getuid(), os.geteuid())"])
    assert uid.output.decode().split() == ["1000", "1000"]
    # As root, who owns /app (the code is root-owned): only the read-only root filesystem can refuse this write.
    write = running.container.exec_run(["python", "-c", "open('/app/x', 'w')"], user="0")
    assert write.exit_code == 1
    assert b"OSError: [Errno 30] Read-only file system: '/app/x'" in write.output

    url = running.url("/predict_onnx")
    unexpected = []
    with requests.Session() as http:
        for text, at_fault in bad_json_bodies(300, SEED):
            answer = http.post(url, data=text, headers={"content-type": "application/json"}, timeout=10)
            if answer.status_code != 422 or blamed_fields(answer.json()["detail"]) != [at_fault]:
                unexpected.append((at_fault, answer.status_code, answer.text[:200]))
        for body, content_type in garbage_bodies(100, SEED):
            answer = http.post(url, data=body, headers={"content-type": content_type}, timeout=10)
            if not 400 <= answer.status_code < 500:
                unexpected.append((content_type, answer.status_code, answer.text[:200]))
        send_half_a_body(running.host, running.host_port)
        health = http.get(running.url("/health"), timeout=10)
        prediction = http.post(url, json=EXAMPLE, timeout=10)

    assert unexpected == []
    assert health.json()["status"] == "healthy"
    assert prediction.status_code == 200
    code, _ = timed_stop(running)
    assert code == 0, running.logs_tail()  # 0, not 137: SIGTERM ended it, not the SIGKILL after STOP_TIMEOUT_S
    assert not [line for line in running.logs_tail(200) if "Traceback" in line or "[ERROR]" in line]


@dataclass
class Outcomes:
    """What clients saw: (start, end) of answered requests, requests cut after sending, refused connects."""

    answered: list[tuple[float, float]] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def post_once(address: tuple[str, int], outcomes: Outcomes) -> None:
    """One heavy batch on a fresh connection; a failure after sending counts as a cut in-flight request."""
    began = time.monotonic()
    conn = http.client.HTTPConnection(*address, timeout=30)
    try:
        try:
            conn.connect()
        except OSError:
            with outcomes.lock:
                outcomes.refused += 1
            return
        try:
            conn.request(
                "POST", "/predict_onnx/batch", body=HEAVY_TEXT, headers={"content-type": "application/json"}
            )
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            with outcomes.lock:
                outcomes.cut.append(f"{type(exc).__name__}: {exc}")
            return
    finally:
        conn.close()
    with outcomes.lock:
        if status == 200:
            outcomes.answered.append((began, time.monotonic()))
        else:
            outcomes.cut.append(f"HTTP {status}")


def test_docker_stop_under_load_finishes_in_flight_requests_and_exits_0(start_api: StartApi) -> None:
    # Access log on: each response the server started is one line, to compare with what clients received.
    running = start_api(env={"GUNICORN_CMD_ARGS": "--access-logfile -"})
    # The container's own address, not the published port: docker-proxy would accept connections the
    # stopping server refuses, and they could not be told apart from requests cut in flight.
    running.container.reload()
    address = (running.container.attrs["NetworkSettings"]["IPAddress"], 8000)
    outcomes = Outcomes()
    stop_requested = threading.Event()

    def client() -> None:
        """Fire batches back to back until the stopping server refuses a connection."""
        while not (stop_requested.is_set() and outcomes.refused):
            post_once(address, outcomes)

    with ThreadPoolExecutor(max_workers=6) as pool:
        clients = [pool.submit(client) for _ in range(6)]
        time.sleep(2.0)
        sigterm_at = time.monotonic()
        stop_requested.set()
        code, seconds = timed_stop(running)
        for finished in clients:
            finished.result(timeout=60)

    logs = running.container.logs().decode("utf-8", "replace").splitlines()
    served = [line for line in logs if '"POST /predict_onnx/batch HTTP/1.1" 200' in line]
    spanning = [(a, b) for a, b in outcomes.answered if a < sigterm_at < b]
    assert spanning, "no request was in flight when SIGTERM came"
    # Every response the server began reached its client; a connection still in the listen backlog when the
    # listener closed is reset without the server ever reading it (those are outcomes.cut, if any).
    assert len(served) == len(outcomes.answered), outcomes.cut
    assert code == 0, logs[-30:]  # 0, not 137: SIGTERM ended it, not the SIGKILL after STOP_TIMEOUT_S
    assert not [line for line in logs if "SIGKILL" in line or "Traceback" in line]
    print(
        f"stop under load: {len(outcomes.answered)} answered, {len(spanning)} in flight at SIGTERM, "
        f"{len(outcomes.cut)} reset from the backlog, {outcomes.refused} refused after, "
        f"stop {seconds:.2f} s, exit {code}"
    )


def test_replacing_the_container_behind_a_switching_client_fails_no_request(start_api: StartApi) -> None:
    old = start_api()
    first_url = old.url("/predict_onnx")
    current = {"url": first_url}
    results: list[int | str] = []
    lock = threading.Lock()
    on_new: set[int] = set()
    done = threading.Event()

    def client(number: int) -> None:
        with requests.Session() as http:
            while not done.is_set():
                url = current["url"]
                try:
                    outcome: int | str = http.post(url, json=EXAMPLE, timeout=10).status_code
                except requests.RequestException as exc:
                    outcome = f"{type(exc).__name__}: {exc}"
                with lock:
                    results.append(outcome)
                    if url != first_url:
                        on_new.add(number)

    with ThreadPoolExecutor(max_workers=4) as pool:
        clients = [pool.submit(client, n) for n in range(4)]
        time.sleep(1.0)
        new = start_api()
        current["url"] = new.url("/predict_onnx")
        # Drain: every client has finished a request on the new container before the old one stops.
        deadline = time.monotonic() + 10
        while len(on_new) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        code, _ = timed_stop(old)
        time.sleep(1.0)
        done.set()
        for finished in clients:
            finished.result(timeout=30)

    failed = [r for r in results if r != 200]
    assert len(on_new) == 4
    assert failed == []
    assert len(results) > 100
    assert code == 0


def test_runtime_image_holds_no_build_tools_pip_downloaders_or_secrets(
    harness_session: EngineSession, api_image: str
) -> None:
    paths = image_paths(harness_session.client, api_image, labels=harness_session.labels())
    image = harness_session.client.images.get(api_image)

    assert "/opt/venv/bin/python" in paths
    assert "/app/service/app.py" in paths
    assert matching(paths, COMPILERS) == []
    assert matching(paths, DOWNLOADERS) == []
    assert matching(paths, PIP_IN_VENV + PIP_CACHES) == []
    assert matching(paths, SECRETS) == []
    healthcheck = image.attrs["Config"]["Healthcheck"]["Test"]
    assert healthcheck[0] == "CMD", healthcheck  # exec form: no shell involved
    assert healthcheck[1].rsplit("/", 1)[-1].startswith("python"), healthcheck
