"""Sample a running container's memory and CPU in the background from the Docker stats stream."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass

from docker.errors import DockerException
from docker.models.containers import Container
from requests import RequestException

from container_harness.errors import EngineUnavailableError
from container_harness.measure.usage import cpu_percent, has_previous_sample, memory_bytes
from container_harness.run.container import raise_if_exited

# The daemon sends one payload per second; stopping waits for the next one at most this long.
_STOP_WAIT_S = 3.0


@dataclass(frozen=True)
class IdleStats:
    """Median memory and CPU of a container left alone, and the samples they come from."""

    memory_bytes: int
    cpu_percent: float
    samples: list[tuple[float, int, float]]


class StatsSampler:
    """Context manager collecting (seconds since start, memory bytes, CPU %) from the stats stream.

    Reading happens in a daemon thread; on exit the thread stops at the next payload and closes the stream.
    The first payload has no earlier CPU sample, so it only contributes memory (CPU recorded as 0.0 and
    left out of the CPU median). A container that stopped meanwhile fails the measurement: stopping raises
    ContainerExitedError (exit code, last logs) naming `doing`, what was measured.
    """

    def __init__(self, container: Container, doing: str = "its memory and CPU were sampled") -> None:
        self.container = container
        self.doing = doing
        self.samples: list[tuple[float, int, float]] = []
        self.error: str | None = None
        self._cpu_samples: list[float] = []
        self._stop = threading.Event()
        self._started = 0.0
        self._thread = threading.Thread(target=self._read, name=f"stats-{container.short_id}", daemon=True)

    def __enter__(self) -> StatsSampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the reader (at the next payload or the stream's end); ContainerExitedError if the container stopped.

        A stats stream that broke while the container ran raises EngineUnavailableError: its figures would be partial.
        """
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=_STOP_WAIT_S)
        raise_if_exited(self.container, self.doing)
        if self.error is not None:
            raise EngineUnavailableError(
                f"the stats stream of {self.container.short_id} broke while {self.doing}: {self.error}",
                hint="the engine stopped answering its stats API mid-run: check `docker stats` and the engine's "
                "log, then run again",
            )

    @property
    def peak_memory_bytes(self) -> int:
        """Highest memory seen (0 before the first sample)."""
        return max((memory for _, memory, _ in self.samples), default=0)

    @property
    def median_memory_bytes(self) -> int:
        """Median memory over the samples (0 before the first sample)."""
        return int(statistics.median(memory for _, memory, _ in self.samples)) if self.samples else 0

    @property
    def median_cpu_percent(self) -> float:
        """Median CPU % over the samples that had an earlier sample to compare with (0.0 if none)."""
        return float(statistics.median(self._cpu_samples)) if self._cpu_samples else 0.0

    def _read(self) -> None:
        """Append one sample per payload until asked to stop; the stream is closed on the way out."""
        stream = self.container.stats(stream=True, decode=True)
        try:
            for payload in stream:
                if self._stop.is_set():
                    break
                if not payload.get("memory_stats"):
                    continue  # the container has stopped: the daemon sends empty payloads (stop() raises)
                cpu = cpu_percent(payload) if has_previous_sample(payload) else None
                if cpu is not None:
                    self._cpu_samples.append(cpu)
                self.samples.append((time.monotonic() - self._started, memory_bytes(payload), cpu or 0.0))
        except (DockerException, RequestException) as exc:
            self.error = str(exc)
        finally:
            stream.close()


def idle_stats(container: Container, seconds: float = 5) -> IdleStats:
    """Median memory and CPU over `seconds` of a container nobody talks to."""
    with StatsSampler(container, f"its idle memory and CPU were sampled for {seconds:g} s") as sampler:
        time.sleep(seconds)
    return IdleStats(
        memory_bytes=sampler.median_memory_bytes,
        cpu_percent=sampler.median_cpu_percent,
        samples=list(sampler.samples),
    )
