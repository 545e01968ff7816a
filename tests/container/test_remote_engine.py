"""An engine over TCP (DOCKER_HOST=tcp://…), simulated: the local engine's socket forwarded to a TCP port on
this machine's outward address, so the engine looks remote (not loopback) to the harness and testcontainers.
"""

from __future__ import annotations

import socket
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from container_harness.engine import connect
from container_harness.ownership import new_session
from container_harness.run import reach
from container_harness.run.container import start_container
from container_harness.specs import RunSpec

pytestmark = pytest.mark.container

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"
SOCKET = "/var/run/docker.sock"


class _Forward(socketserver.BaseRequestHandler):
    """One TCP connection piped both ways to the engine's unix socket."""

    def handle(self) -> None:
        with socket.socket(socket.AF_UNIX) as engine:
            engine.connect(SOCKET)
            back = threading.Thread(target=_pipe, args=(engine, self.request), daemon=True)
            back.start()
            _pipe(self.request, engine)
            back.join(timeout=5)


def _pipe(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes until source closes, then half-close target."""
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _outward_address() -> str:
    """This machine's address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))
        return str(probe.getsockname()[0])


@pytest.fixture
def tcp_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DOCKER_HOST=tcp://<outward address>:<port> for the test; the address it names."""
    address = _outward_address()
    server = socketserver.ThreadingTCPServer((address, 0), _Forward)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DOCKER_HOST", f"tcp://{address}:{server.server_address[1]}")
    reach.plan_reach.cache_clear()
    reach._testcontainers.cache_clear()
    yield address
    server.shutdown()
    server.server_close()
    reach.plan_reach.cache_clear()
    reach._testcontainers.cache_clear()


def test_a_tcp_engine_is_reached_at_its_host_with_the_port_published_there(tcp_engine: str) -> None:
    session = new_session(connect())
    try:
        base = f"harness-test/busybox:{session.id}"
        session.track_image(base)
        subprocess.run(["sh", str(TINY / "provide_base.sh"), base], check=True, capture_output=True, timeout=300)
        spec = RunSpec(port=8080, health_path="/passwd", command=["httpd", "-f", "-p", "8080", "-h", "/etc"])
        with start_container(session, base, spec) as running:
            assert (running.reach.mode.value, running.host) == ("docker_host", tcp_engine)
            assert running.url("/").startswith(f"http://{tcp_engine}:")
            assert running.ready_s is not None
            bindings = running.container.attrs["NetworkSettings"]["Ports"]["8080/tcp"]
            assert bindings[0]["HostIp"] == "0.0.0.0"
    finally:
        session.cleanup()
