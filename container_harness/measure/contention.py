"""Noisy neighbours: how much CPU the engine's other containers used while this run measured, and the host's
load where it can be read, so a figure taken on a busy engine is marked instead of trusted."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import docker
from docker.errors import DockerException
from requests import RequestException

from container_harness.measure.usage import cpu_percent

_EVERY_S = 2.0
_MOST_CONTAINERS = 16  # one-shot stats take about a second each; read at most this many at once


@dataclass(frozen=True)
class Sample:
    """One look at the engine: when (epoch seconds), CPUs its other containers used, and which they were."""

    at: float
    other_cpus: float
    containers: tuple[str, ...]
    host_load_1m: float | None


@dataclass(frozen=True)
class Window:
    """Contention during one measurement: the largest share of the engine's CPUs others used, and by whom."""

    max_share: float
    containers: tuple[str, ...]
    host_load_1m: float | None

    def to_report(self) -> dict[str, Any]:
        return {
            "max_other_cpu_share": round(self.max_share, 3),
            "containers": list(self.containers),
            "host_load_1m": self.host_load_1m,
        }


def window(samples: Sequence[Sample], start: float, stop: float, engine_cpus: int) -> Window:
    """What the samples taken between start and stop (epoch seconds), or the nearest one, say (pure)."""
    inside = [sample for sample in samples if start <= sample.at <= stop]
    if not inside and samples:
        inside = [min(samples, key=lambda sample: min(abs(sample.at - start), abs(sample.at - stop)))]
    if not inside:
        return Window(0.0, (), None)
    busiest = max(inside, key=lambda sample: sample.other_cpus)
    loads = [sample.host_load_1m for sample in inside if sample.host_load_1m is not None]
    names = tuple(sorted({name for sample in inside for name in sample.containers}))
    return Window(busiest.other_cpus / max(engine_cpus, 1), names, max(loads) if loads else None)


def other_cpus(payloads: Iterable[dict[str, Any]]) -> float:
    """CPUs used by containers, from one-shot stats payloads (each carries its own earlier sample) (pure)."""
    return sum(cpu_percent(payload) for payload in payloads) / 100.0


class ContentionSampler:
    """Looks at the engine every couple of seconds in a daemon thread while a run measures.

    Containers carrying `own_label` (this run's) are not neighbours; every other running container is.
    """

    def __init__(self, client: docker.DockerClient, own_label: tuple[str, str], every_s: float = _EVERY_S):
        self.client = client
        self.own_label = own_label
        self.every_s = every_s
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="harness-contention", daemon=True)

    def start(self) -> ContentionSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every_s + 5)

    def _run(self) -> None:
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="harness-contention") as pool:
            while not self._stop.is_set():
                # A look the engine could not answer is a gap, not a verdict.
                with contextlib.suppress(DockerException, RequestException):
                    self.samples.append(self._look(pool))
                self._stop.wait(self.every_s)

    def _look(self, pool: ThreadPoolExecutor) -> Sample:
        key, value = self.own_label
        others = [
            container
            for container in self.client.containers.list(filters={"status": "running"})
            if container.labels.get(key) != value
        ][:_MOST_CONTAINERS]
        payloads = list(pool.map(_one_shot, [container.id for container in others], [self.client] * len(others)))
        return Sample(
            at=time.time(),
            other_cpus=other_cpus(payload for payload in payloads if payload is not None),
            containers=tuple(container.name for container in others),
            host_load_1m=_host_load(),
        )


def _one_shot(container_id: str, client: docker.DockerClient) -> dict[str, Any] | None:
    try:
        payload: dict[str, Any] = client.api.stats(container_id, stream=False)
    except (DockerException, RequestException):
        return None  # it stopped meanwhile
    return payload


def _host_load() -> float | None:
    """The 1-minute load average when the engine is this host (DOCKER_HOST unset or a unix socket)."""
    host = os.environ.get("DOCKER_HOST", "")
    if host and not host.startswith("unix://"):
        return None
    try:
        return os.getloadavg()[0]
    except OSError:
        return None
