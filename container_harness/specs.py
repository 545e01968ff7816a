"""Plain specs of what to build, run and load: data only, no Docker, so configuration and tests import them
freely."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["AUTO_PROCESSES", "DEFAULT_SHARE", "ImageSpec", "LoadSpec", "RunSpec"]

AUTO_PROCESSES = 0  # load.processes = "auto"
# The CPU share of one core a generator may use before it counts as the bound ("auto" keeps each under it).
DEFAULT_SHARE = 0.7

# The path run.health_path names, in every load run's environment: the health floor's locustfile reads it.
HEALTH_PATH_ENV = "HARNESS_HEALTH_PATH"

@dataclass(frozen=True)
class ImageSpec:
    """What to build: Dockerfile, context, tag, build args, target, code and dependency files to touch, base
    provider, and the builder (auto: BuildKit when the buildx plugin answers, else classic, which builds
    classic_dockerfile when one is given: a BuildKit-only Dockerfile's fallback)."""

    dockerfile: Path
    context: Path
    tag: str
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    code_change_path: str | None = None
    base_provider: str | None = None
    dependency_change_path: str | None = None
    builder: Literal["auto", "buildkit", "classic"] = "auto"
    classic_dockerfile: Path | None = None


@dataclass(frozen=True)
class RunSpec:
    """How to run the container: port to publish, health path, env, volumes, limits and hardening."""

    port: int
    health_path: str = "/health"
    env: dict[str, str] = field(default_factory=dict)
    volumes: dict[str, dict[str, str]] = field(default_factory=dict)
    cpuset: str | None = None
    mem_limit: str | None = None
    nano_cpus: int | None = None
    health_interval_s: float | None = None
    ready_timeout_s: float = 60.0
    read_only: bool = False
    tmpfs: dict[str, str] | None = None
    cap_drop: list[str] | None = None
    security_opt: list[str] | None = None
    command: list[str] | None = None
    host: str | None = None  # where the published port is reached; None: testcontainers' answer
    bind: str | None = None  # host address the port is published on; None: follows the host
    network: str | None = None  # "host": the engine host's network, no published port and no docker-proxy


@dataclass(frozen=True)
class LoadSpec:
    """One headless Locust run: duration_s is the measured window, warmup_s runs before it and is excluded."""

    locustfile: Path
    users: int = 10
    spawn_rate: float = 10.0
    duration_s: float = 30.0
    warmup_s: float = 5.0
    processes: int = 1  # above 1: a master and this many local worker processes, each pinned to one CPU;
    # AUTO_PROCESSES: the load check picks the count (container_harness.load.generators); one process elsewhere
    generator_share: float = DEFAULT_SHARE  # the share of a core each generator should stay under
    cpuset: str | None = None  # CPUs for the Locust processes, as taskset -c takes them ("1", "2-3")
    join_timeout_s: int = 30  # how long the master waits for its workers to join
    workers: int = 0  # Locust workers started as containers on the engine (with processes above 1: beside them)
    worker_wheels: Path = Path("wheelhouse/locust")  # Locust's wheels for the workers' image (pip fills it)
    worker_base_provider: str | None = None  # makes the workers' base image when it is missing
    remote_workers: tuple[str, ...] = ()  # ids of workers joining from other hosts (deploy/locust-workers)
    master_bind: str | None = None  # where the master listens; None: loopback, or the bridge gateway
    master_port: int | None = None  # the master's port; None: a free one
    user_classes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    rate: float | None = None  # paced arrivals, requests per second over all processes; None: closed loop

    @property
    def local_workers(self) -> int:
        """Local worker processes: spec.processes when a master runs (processes above 1, or container workers)."""
        return self.processes if self.processes > 1 else 0

    @property
    def generators(self) -> int:
        """Locust processes that send requests: the workers of a distributed run, else the one process."""
        return self.local_workers + self.workers + len(self.remote_workers) or 1

    @property
    def run_time_s(self) -> int:
        """Locust's --run-time: warm-up plus the measured window, whole seconds."""
        return math.ceil(self.warmup_s + self.duration_s)
