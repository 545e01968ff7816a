"""A load run with everything that can bound it measured beside it: the container's CPU (stats stream), the
load generator's (Locust's processes), Docker's port proxy's and the whole machine's (/proc), and the verdict
of which one did."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from container_harness.errors import LoadRunError
from container_harness.load.generators import generators_needed, next_count
from container_harness.load.runner import LoadResult, run_load
from container_harness.measure.host_cpu import HostCpu
from container_harness.measure.proxy import ProxyCpu, pin
from container_harness.measure.usage import cpu_capacity, cpuset_cpus, limited_by
from container_harness.measure.usage_sampler import StatsSampler
from container_harness.ownership import EngineSession
from container_harness.run.container import RunningContainer
from container_harness.specs import AUTO_PROCESSES, LoadSpec

_log = logging.getLogger(__name__)
_PROBE_S = 3.0  # measured seconds of each run that tries a number of processes ("auto")


@dataclass(frozen=True)
class BoundedRun:
    """A run's load figures and what each party used: CPU in % of one core (the container's as docker stats
    gives it), saturations as fractions of what each may use, and limited_by naming the bound."""

    result: LoadResult
    container_cpu_percent: float
    peak_memory_bytes: int
    samples: int
    generator_cpu_percent: float
    proxy_cpu_percent: float | None  # None: no docker-proxy visible for the port
    host_busy: float | None  # share of all the machine's CPUs busy during the run (anyone's work)
    cpu_saturation: float
    limited_by: str
    processes: int  # Locust processes used (chosen by short runs when load.processes is "auto")
    load_cpus: int  # CPUs the load generators may use
    generators_needed: int | None  # client-bound runs: generators under generator_share that would load it fully


def bounded_run(
    running: RunningContainer,
    spec: LoadSpec,
    out_dir: Path,
    doing: str,
    *,
    pin_proxy: bool = False,
    locust_reports: bool = False,
    engine: EngineSession | None = None,
) -> BoundedRun:
    """Run spec against the container while sampling the three parties; with pin_proxy the port's docker-proxy
    is first pinned to the generator's CPUs (spec.cpuset), so it takes no CPU from the service. Worker
    containers (spec.workers) start in engine."""
    proxy = ProxyCpu(running.host_port)
    if pin_proxy:
        _pin_proxy(proxy, spec.cpuset, running.host_port)
    load_cpus = generator_cpus(spec)
    if spec.processes == AUTO_PROCESSES:
        spec = choose_processes(running, spec, out_dir, engine)
    with StatsSampler(running.container, doing) as sampler, proxy, HostCpu() as host:
        result = run_load(spec, running.url(), out_dir, locust_reports=locust_reports, engine=engine)
    running.container.reload()
    cpus = cpu_capacity(running.container.attrs["HostConfig"], running.container.client.info()["NCPU"])
    saturation = sampler.median_cpu_percent / (100.0 * cpus)
    bound = limited_by(
        saturation,
        generator_saturation=result.generator_cpu_percent / (100.0 * spec.generators),
        proxy_saturation=None if proxy.percent is None else proxy.percent / 100.0,
        host_saturation=host.saturation,
    )
    needed = None
    if bound == "client" and saturation > 0:
        needed = generators_needed(result.generator_cpu_percent, saturation, spec.generator_share)
        _log.info("client-bound: about %d generators would load it fully (%d load CPUs)", needed, load_cpus)
    _log.info(
        "load bound by %s: container %.0f %% of %g CPUs, generator %.0f %%, proxy %s, machine %.0f %% busy",
        bound,
        sampler.median_cpu_percent,
        cpus,
        result.generator_cpu_percent,
        "not visible" if proxy.percent is None else f"{proxy.percent:.0f} %",
        (host.saturation or 0.0) * 100,
    )
    return BoundedRun(
        result=result,
        container_cpu_percent=sampler.median_cpu_percent,
        peak_memory_bytes=sampler.peak_memory_bytes,
        samples=len(sampler.samples),
        generator_cpu_percent=result.generator_cpu_percent,
        proxy_cpu_percent=proxy.percent,
        host_busy=host.saturation,
        cpu_saturation=saturation,
        limited_by=bound,
        processes=spec.processes,
        load_cpus=load_cpus,
        generators_needed=needed,
    )


def _pin_proxy(proxy: ProxyCpu, cpuset: str | None, port: int) -> None:
    """Pin the port's docker-proxy to the generator's CPUs; LoadRunError when there are none or no proxy is seen."""
    if cpuset is None:
        raise LoadRunError("pin_proxy pins docker-proxy beside the load generator: set load.locust_cpuset too")
    if not proxy.pids:
        raise LoadRunError(
            f"pin_proxy: no docker-proxy serves port {port} in this PID namespace (remote engine, "
            "network host, or the engine's userland proxy is off); unset load.pin_proxy"
        )
    pin(proxy.pids, cpuset_cpus(cpuset))


def generator_cpus(spec: LoadSpec) -> int:
    """How many CPUs the load generators may use: spec.cpuset's, else this process's."""
    return len(cpuset_cpus(spec.cpuset)) if spec.cpuset else len(os.sched_getaffinity(0))


def choose_processes(
    running: RunningContainer, spec: LoadSpec, out_dir: Path, engine: EngineSession | None
) -> LoadSpec:
    """The spec with as many local processes as keep the busiest under spec.generator_share of a core (or as
    many as there are load CPUs), found by short runs from one process up (what `load.processes = "auto"` means)."""
    load_cpus = generator_cpus(spec)
    count = 1
    while True:
        duration_s, warmup_s = min(spec.duration_s, _PROBE_S), min(spec.warmup_s, 1.0)
        probe = replace(spec, processes=count, duration_s=duration_s, warmup_s=warmup_s)
        result = run_load(probe, running.url(), out_dir / f"auto-{count}", engine=engine)
        busiest = max((worker.cpu_percent for worker in result.workers), default=result.generator_cpu_percent)
        following = next_count(count, busiest, load_cpus, spec.generator_share)
        _log.info("load.processes auto: %d process(es), the busiest at %.0f %% of a core", count, busiest)
        if following is None:
            return replace(spec, processes=count)
        count = following
