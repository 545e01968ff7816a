"""How busy the whole machine's CPUs were over a span, from /proc/stat (the first `cpu` line).

A load run on a shared machine can be bound by neither the service, the proxy nor the generator but by other
processes taking the CPUs; this figure shows it. Busy time is everything but idle and iowait.
"""

from __future__ import annotations

from pathlib import Path

_STAT = Path("/proc/stat")


def busy_and_total(stat_text: str) -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat's text (pure); guest time is already in user."""
    fields = [int(value) for value in stat_text.splitlines()[0].split()[1:9]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class HostCpu:
    """Context manager: the share (0-1) of all the machine's CPUs that was busy while it was open."""

    def __init__(self, stat: Path = _STAT) -> None:
        self._stat = stat
        self._start = (0, 0)
        self.saturation: float | None = None

    def __enter__(self) -> HostCpu:
        self._start = busy_and_total(self._stat.read_text())
        return self

    def __exit__(self, *exc_info: object) -> None:
        busy, total = busy_and_total(self._stat.read_text())
        if total > self._start[1]:
            self.saturation = (busy - self._start[0]) / (total - self._start[1])
