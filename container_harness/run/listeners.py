"""What a container listens on, read from its /proc/net/tcp{,6}, to say why it does not answer (pure parsing
plus one read). Written by hand: no library reads another network namespace's sockets without its tools."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from docker.errors import DockerException
from docker.models.containers import Container

_LISTEN = "0A"  # the kernel's TCP_LISTEN state, as /proc/net/tcp writes it
_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


@dataclass(frozen=True)
class Listener:
    """One listening TCP socket: its address and port."""

    address: str
    port: int

    @property
    def loopback_only(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback

    @property
    def wildcard(self) -> bool:
        return ipaddress.ip_address(self.address).is_unspecified


def parse_proc_net_tcp(text: str) -> list[Listener]:
    """The listening sockets of a /proc/net/tcp or tcp6 table (addresses are little-endian hex words)."""
    listeners = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != _LISTEN:
            continue
        address_hex, port_hex = fields[1].split(":")
        listeners.append(Listener(_address(address_hex), int(port_hex, 16)))
    return listeners


def _address(hex_text: str) -> str:
    """/proc/net/tcp's address: 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hex_text)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def read_listeners(container: Container) -> list[Listener] | None:
    """The container's listening sockets, or None when they cannot be read (no `cat`, no local /proc)."""
    texts = []
    for table in _TABLES:
        try:
            code, output = container.exec_run(["cat", table])
        except DockerException:
            code, output = 1, b""
        if code == 0:
            texts.append(output.decode("ascii", "replace"))
    if not texts:
        texts = _host_side(container)
    return [listener for text in texts for listener in parse_proc_net_tcp(text)] if texts else None


def _host_side(container: Container) -> list[str]:
    """The tables through the host's /proc/<pid>/net when the engine is local and we may read them."""
    pid = (container.attrs.get("State") or {}).get("Pid")
    texts = []
    for table in _TABLES:
        path = Path(f"/proc/{pid}/net/{table.rsplit('/', 1)[1]}")
        try:
            texts.append(path.read_text())
        except OSError:
            continue
    return texts if pid else []


def diagnose(listeners: Iterable[Listener], port: int) -> str | None:
    """Why a service on `port` cannot be reached from outside, or None while nothing says it cannot."""
    listeners = list(listeners)
    on_port = [listener for listener in listeners if listener.port == port]
    if any(not listener.loopback_only for listener in on_port):
        return None
    if on_port:
        return (
            f"the service listens on {on_port[0].address}:{port} only, which is unreachable from outside the "
            "container; bind it to 0.0.0.0 (or ::)"
        )
    others = sorted({listener.port for listener in listeners if not listener.loopback_only})
    if others:
        return (
            f"nothing listens on port {port}; the container listens on {', '.join(map(str, others))}: "
            "set run.port to the port the service uses"
        )
    return None
