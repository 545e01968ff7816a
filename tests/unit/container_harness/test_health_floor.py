"""The health floor is driven by the harness's own locustfile: a real Locust run against a real HTTP server,
with a user's plain locustfile that knows nothing of HARNESS_LOAD_SCENARIO, asks only for the health path."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from container_harness.load.floor import HEALTH_LOCUSTFILE, health_floor_spec
from container_harness.load.latency import read_raw_times
from container_harness.load.runner import run_load
from container_harness.specs import LoadSpec

PLAIN_LOCUSTFILE = Path(__file__).resolve().parents[2] / "fixtures" / "locustfiles" / "one_path.py"


class _Paths(BaseHTTPRequestHandler):
    """Answers 200 to every GET and keeps the paths it was asked for."""

    seen: ClassVar[list[str]]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: object) -> None:
        """Quiet: the test reads the paths, not the log."""


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Paths,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()
    httpd.server_close()


def test_the_floor_keeps_the_scenarios_settings_and_swaps_its_locustfile() -> None:
    scenario = LoadSpec(
        PLAIN_LOCUSTFILE, users=7, duration_s=12, warmup_s=3, processes=2, cpuset="1", user_classes=("Reader",),
        tags=("write",), env={"LOCUST_SEED": "1"}, rate=50.0,
    )  # fmt: skip
    floor = health_floor_spec(scenario, "/healthz")
    assert floor.locustfile == HEALTH_LOCUSTFILE
    assert (floor.users, floor.duration_s, floor.warmup_s, floor.processes, floor.cpuset) == (7, 12, 3, 2, "1")
    assert (floor.user_classes, floor.tags, floor.rate) == ((), (), None)
    assert floor.env == {"LOCUST_SEED": "1", "HARNESS_HEALTH_PATH": "/healthz"}


def test_a_plain_locustfiles_floor_measures_the_health_path_alone(
    server: tuple[str, list[str]], tmp_path: Path
) -> None:
    host, seen = server
    scenario = LoadSpec(PLAIN_LOCUSTFILE, users=2, spawn_rate=2, duration_s=1, warmup_s=0)
    result = run_load(health_floor_spec(scenario, "/healthz"), host, tmp_path)
    assert result.requests > 0
    assert result.failures == 0
    assert {record.name for record in read_raw_times(result.raw_times_path)} == {"/healthz"}
    assert set(seen) == {"/healthz"}
