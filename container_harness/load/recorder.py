"""The harness's request recorder, a Locust plugin module: any locustfile gets exact percentiles.

Locust loads it beside the user's file (`locust -f .../recorder.py,locustfile.py`, which the runner does), so
the locustfile needs no harness code. It listens to Locust's `request` event and appends one raw-times line
per request (format in container_harness.load.latency) to `times-<pid>.tsv` in the directory named by
HARNESS_LOCUST_TIMES_DIR; without that variable it records nothing.

One file per process, opened by the process that writes it: Locust's `--processes` forks after importing the
locustfiles, and distributed workers (container_harness.load.distributed) are separate processes, so no
two writers share a file and no line can be torn. Lines are buffered and written in batches, and flushed when
the test stops and when Locust quits.

A distributed worker started with HARNESS_WORKER_ID (container_harness.load.distributed) names its file
times-<id>-<pid>.tsv, leaves a joined-<id> file once it has connected to its master (so a worker that never
joined can be named) and cpu-<id>, its CPU seconds, when it quits.

Paced runs (HARNESS_PACED_RATE, requests per second for this process): every user class's wait_time is
replaced by a shared schedule of arrival slots 1/rate apart; a free user takes the next slot and sleeps until
it. The first request after a slot is recorded from the slot (its intended start), not from when it was sent,
so when the users fall behind the schedule the wait counts as latency (no coordinated omission).
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from container_harness.load.latency import CPU_PREFIX, JOINED_PREFIX, PACED_RATE_ENV, RAW_TIMES_DIR_ENV, WORKER_ID_ENV

_BATCH = 200


class PerProcessTimes:
    """Raw-times lines of this process, written to the directory's times-<pid>.tsv (re-opened after a fork)."""

    def __init__(self, directory: Path, worker_id: str | None) -> None:
        self._directory = directory
        self._prefix = f"times-{worker_id}-" if worker_id else "times-"
        self._pid = 0
        self._fd = -1
        self._lines: list[str] = []

    def add(self, start: float, name: str, response_ms: float, ok: bool, sent: float | None = None) -> None:
        """Buffer one request; a tab or newline in the name would break the line, so they become spaces."""
        clean = name.replace("\t", " ").replace("\n", " ")
        late = "" if sent is None else f"\t{sent:.6f}"
        self._lines.append(f"{start:.6f}\t{clean}\t{response_ms:.3f}\t{int(ok)}{late}\n")
        if len(self._lines) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the buffered lines to this process's own file."""
        if not self._lines:
            return
        if self._pid != os.getpid():
            self._directory.mkdir(parents=True, exist_ok=True)
            self._pid = os.getpid()
            path = self._directory / f"{self._prefix}{self._pid}.tsv"
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(self._fd, "".join(self._lines).encode())
        self._lines = []


class Schedule:
    """Arrival slots `1 / rate` seconds apart from the first claim on, and each user greenlet's current slot."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next: float | None = None
        self.intended: dict[object, float] = {}

    def wait(self, *_: object) -> float:
        """A wait_time: claim the next slot for this greenlet and return the seconds until it (0 when late)."""
        now = time.time()
        slot = now if self._next is None else self._next
        self._next = slot + self._interval
        self.intended[gevent.getcurrent()] = slot
        return max(0.0, slot - now)

    def start_of(self, start_time: float) -> float:
        """The intended start of the request this greenlet just made (its actual start after the first one)."""
        return self.intended.pop(gevent.getcurrent(), start_time)


def _install(directory: Path, rate: float | None, worker_id: str | None) -> PerProcessTimes:
    """Register the recorder (and the schedule of a paced run) on Locust's events."""
    times = PerProcessTimes(directory, worker_id)
    schedule = Schedule(rate) if rate else None

    @events.init.add_listener
    def _init(environment: Environment, **_: Any) -> None:
        # A worker's runner has connected to its master by the time init fires: mark it as joined.
        if isinstance(environment.runner, WorkerRunner) and worker_id:
            directory.mkdir(parents=True, exist_ok=True)
            (directory / f"{JOINED_PREFIX}{worker_id}").touch()
        if schedule is not None:
            for user_class in environment.user_classes:
                user_class.wait_time = schedule.wait

    @events.request.add_listener
    def _record(
        name: str, response_time: float, exception: Exception | None, start_time: float, **_: Any
    ) -> None:
        if schedule is None:
            times.add(start_time, name, response_time, exception is None)
            return
        start = min(schedule.start_of(start_time), start_time)
        lag_ms = (start_time - start) * 1000.0
        times.add(start, name, response_time + lag_ms, exception is None, start_time)

    @events.test_stop.add_listener
    def _flush_on_stop(**_: Any) -> None:
        times.flush()

    @events.quitting.add_listener
    def _flush_on_quit(**_: Any) -> None:
        times.flush()
        if worker_id:  # its CPU, for workers whose rusage the harness cannot read (in containers)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            (directory / f"{CPU_PREFIX}{worker_id}").write_text(f"{usage.ru_utime + usage.ru_stime:.3f}\n")

    return times


if os.environ.get(RAW_TIMES_DIR_ENV):
    _install(
        Path(os.environ[RAW_TIMES_DIR_ENV]),
        float(os.environ.get(PACED_RATE_ENV) or 0) or None,
        os.environ.get(WORKER_ID_ENV) or None,
    )
