"""The harness's request recorder, a Locust plugin module: any locustfile gets exact percentiles.

Locust loads it beside the user's file (`locust -f .../recorder.py,locustfile.py`, which the runner does), so
the locustfile needs no harness code. It listens to Locust's `request` event and appends one raw-times line
per request (format in container_harness.load.latency) to `times-<pid>.tsv` in the directory named by
HARNESS_LOCUST_TIMES_DIR; without that variable it records nothing.

One file per process, opened by the process that writes it: Locust's `--processes` forks after importing the
locustfiles, and its distributed workers are separate processes, so no two writers share a file and no line
can be torn. Lines are buffered and written in batches, and flushed when the test stops and when Locust quits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from locust import events

from container_harness.load.latency import RAW_TIMES_DIR_ENV

_BATCH = 200


class PerProcessTimes:
    """Raw-times lines of this process, written to the directory's times-<pid>.tsv (re-opened after a fork)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._pid = 0
        self._fd = -1
        self._lines: list[str] = []

    def add(self, start: float, name: str, response_ms: float, ok: bool) -> None:
        """Buffer one request; a tab or newline in the name would break the line, so they become spaces."""
        clean = name.replace("\t", " ").replace("\n", " ")
        self._lines.append(f"{start:.6f}\t{clean}\t{response_ms:.3f}\t{int(ok)}\n")
        if len(self._lines) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the buffered lines to this process's own file."""
        if not self._lines:
            return
        if self._pid != os.getpid():
            self._directory.mkdir(parents=True, exist_ok=True)
            self._pid = os.getpid()
            path = self._directory / f"times-{self._pid}.tsv"
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(self._fd, "".join(self._lines).encode())
        self._lines = []


def _install(directory: Path) -> PerProcessTimes:
    """Register the recorder on Locust's events."""
    times = PerProcessTimes(directory)

    @events.request.add_listener
    def _record(
        name: str, response_time: float, exception: Exception | None, start_time: float, **_: Any
    ) -> None:
        times.add(start_time, name, response_time, exception is None)

    @events.test_stop.add_listener
    def _flush_on_stop(**_: Any) -> None:
        times.flush()

    @events.quitting.add_listener
    def _flush_on_quit(**_: Any) -> None:
        times.flush()

    return times


if os.environ.get(RAW_TIMES_DIR_ENV):
    _install(Path(os.environ[RAW_TIMES_DIR_ENV]))
