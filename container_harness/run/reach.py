"""Where this process reaches a container's published port: testcontainers' answer, or the user's `run.host`.

testcontainers works it out from the engine's address and from where we run: a `tcp://` or `ssh://` engine is
reached at its host; inside a container that shares the host's engine socket (CI docker executors, dev
containers) at the default gateway (the engine's host seen from here), or at the container's gateway or bridge
address when no gateway is found; otherwise at localhost. The port is published on 127.0.0.1 when that host is
a loopback address, else on every interface of the engine's host (0.0.0.0) unless `run.bind` says where.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from docker.models.containers import Container
from testcontainers.core.config import ConnectionMode
from testcontainers.core.docker_client import DockerClient as TestcontainersClient

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_log = logging.getLogger(__name__)


@functools.cache
def _testcontainers() -> TestcontainersClient:
    """testcontainers' engine client, made once per process (it reads DOCKER_HOST, TC_HOST and contexts)."""
    return TestcontainersClient()


@dataclass(frozen=True)
class Reach:
    """How containers are reached: testcontainers' connection mode, the host (for docker_host), the address
    to publish on and the network to start them on (bridge_ip: ours, so their bridge address answers)."""

    mode: ConnectionMode
    host: str | None
    bind: str
    network: str | None = None

    def to_report(self) -> dict[str, str | None]:
        """How containers were reached, for the report's environment section."""
        return {"mode": self.mode.value, "host": self.host, "bind": self.bind, "network": self.network}

    def address(self, container: Container, port: int, host_port: int) -> tuple[str, int]:
        """(host, port) at which this process reaches the container's `port`, published on `host_port`."""
        if self.mode is ConnectionMode.docker_host and self.host is not None:
            return self.host, host_port
        client = _testcontainers()
        if self.mode is ConnectionMode.gateway_ip:
            return client.gateway_ip(container.id or container.name), host_port
        return client.bridge_ip(container.id or container.name), port


@functools.cache
def plan_reach(host: str | None = None, bind: str | None = None) -> Reach:
    """The Reach for this process: `host` (run.host) overrides testcontainers, `bind` (run.bind) the address."""
    network = None
    if host:
        mode = ConnectionMode.docker_host
    else:
        client = _testcontainers()
        mode = client.get_connection_mode()
        host = client.host() if mode is ConnectionMode.docker_host else None
        network = client.find_host_network() if mode is ConnectionMode.bridge_ip else None
    if host in _LOOPBACK:
        host = "127.0.0.1"  # not "localhost": a client trying ::1 first would pay a refused connection each time
    if bind is None:
        bind = "127.0.0.1" if host == "127.0.0.1" else "0.0.0.0"
    reach = Reach(mode=mode, host=host, bind=bind, network=network)
    _log.info("containers are reached by %s at %s, ports published on %s", mode.value, host or "their address", bind)
    return reach
