"""CPU of Docker's userland port proxy (docker-proxy) for a published port, read from /proc.

How: every process whose /proc/<pid>/cmdline runs `docker-proxy` with `-host-port <port>` serves that
published port (one per address family); its CPU time is utime + stime, fields 14 and 15 of
/proc/<pid>/stat, in clock ticks. The difference over a run, divided by the wall time, is its CPU in % of one
core. Only visible when the engine runs in this machine's PID namespace (not for a remote engine, and not
from a container without `--pid=host`); then the figure is None. The proxy is also out of the path when a
client reaches the container by NAT (a non-loopback host address) or directly, which is why it can be idle.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterable
from pathlib import Path

_PROC = Path("/proc")
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def is_proxy_for(argv: list[str], host_port: int) -> bool:
    """Whether a command line is docker-proxy serving host_port (pure)."""
    if not argv or not argv[0].endswith("docker-proxy"):
        return False
    return any(flag == "-host-port" and value == str(host_port) for flag, value in itertools.pairwise(argv))


def cpu_ticks(stat_line: str) -> int:
    """utime + stime from a /proc/<pid>/stat line (pure); the command name in parentheses may hold spaces."""
    fields = stat_line.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of the line, counted after "pid (comm)"


def proxy_pids(host_port: int, proc: Path = _PROC) -> list[int]:
    """PIDs of the docker-proxy processes serving host_port (empty when none is visible)."""
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if is_proxy_for(argv, host_port):
            pids.append(int(entry.name))
    return sorted(pids)


def _ticks(pids: Iterable[int], proc: Path) -> int:
    total = 0
    for pid in pids:
        try:
            total += cpu_ticks((proc / str(pid) / "stat").read_text())
        except OSError:
            continue
    return total


def pin(pids: Iterable[int], cpus: set[int]) -> None:
    """Pin processes to CPUs (needs the same PID namespace and the right to do it, e.g. root)."""
    for pid in pids:
        os.sched_setaffinity(pid, cpus)


class ProxyCpu:
    """Context manager: the CPU % of one core that host_port's docker-proxy used while it was open.

    percent is None when no proxy process was visible (remote engine, other PID namespace, userland proxy off).
    """

    def __init__(self, host_port: int, proc: Path = _PROC) -> None:
        self.host_port = host_port
        self.pids = proxy_pids(host_port, proc)
        self.percent: float | None = None
        self._proc = proc
        self._start_ticks = 0
        self._started = 0.0

    def __enter__(self) -> ProxyCpu:
        self._start_ticks = _ticks(self.pids, self._proc)
        self._started = time.monotonic()
        return self

    def __exit__(self, *exc_info: object) -> None:
        elapsed = time.monotonic() - self._started
        if self.pids and elapsed > 0:
            used_s = (_ticks(self.pids, self._proc) - self._start_ticks) / _TICKS_PER_S
            self.percent = used_s / elapsed * 100.0
