"""What bounds a load run, measured on the real engine: docker-proxy's CPU when the client goes through it,
none when the container shares the host's network, and the generator's CPU always."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from container_harness.engine import connect
from container_harness.load.bounded import bounded_run
from container_harness.ownership import EngineSession, new_session
from container_harness.run.container import start_container
from container_harness.specs import LoadSpec, RunSpec

pytestmark = pytest.mark.container

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LOCUSTFILE = FIXTURES / "locustfiles" / "one_path.py"


@pytest.fixture(scope="module")
def base() -> Iterator[tuple[EngineSession, str]]:
    """A session and the busybox base (httpd), made by the tiny fixture's provider; removed at the end."""
    session = new_session(connect())
    try:
        tag = f"harness-test/busybox:{session.id}"
        session.track_image(tag)
        provider = FIXTURES / "tiny_service" / "provide_base.sh"
        subprocess.run(["sh", str(provider), tag], check=True, capture_output=True, timeout=300)
        yield session, tag
    finally:
        session.cleanup()


def _spec() -> LoadSpec:
    return LoadSpec(LOCUSTFILE, users=4, spawn_rate=4, duration_s=3, warmup_s=1, cpuset="1")


def _httpd(port: int) -> list[str]:
    return ["httpd", "-f", "-p", str(port), "-h", "/etc"]


def test_through_loopback_the_proxy_works_and_is_measured(base: tuple[EngineSession, str], tmp_path: Path) -> None:
    session, image = base
    spec = RunSpec(port=8080, health_path="/passwd", host="127.0.0.1", command=_httpd(8080))
    with start_container(session, image, spec) as running:
        run = bounded_run(running, _spec(), tmp_path, "load-testing httpd", pin_proxy=True)
    assert run.result.failures == 0
    assert run.proxy_cpu_percent is not None
    assert run.proxy_cpu_percent > 1.0
    assert run.generator_cpu_percent > 1.0
    assert run.limited_by in ("service", "proxy", "client", "machine")


def test_on_the_host_network_there_is_no_proxy(base: tuple[EngineSession, str], tmp_path: Path) -> None:
    session, image = base
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = RunSpec(port=port, health_path="/passwd", network="host", command=_httpd(port))
    with start_container(session, image, spec) as running:
        assert running.url().endswith(f":{port}")
        run = bounded_run(running, _spec(), tmp_path, "load-testing httpd on the host network")
    assert run.result.failures == 0
    assert run.result.requests > 0
    assert run.proxy_cpu_percent is None
