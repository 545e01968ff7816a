"""The plugin's load runs: the configured scenario against a pinned container, then (load.health_floor) the same
container's health path alone, and the latency-throughput curve; figures and plots recorded under load.*.

Protocol for stable numbers on a small machine: the container is pinned to load.container_cpuset and Locust
to load.locust_cpuset, so the load generator never takes CPU from the service; the report states the pinning.
With load.health_floor the same container then serves the health path alone, driven by the harness's own
locustfile (container_harness.load.floor) with the scenario's users, timing and pinning, and the ratio of the two
throughputs says how much of the framework's floor the real endpoint keeps. Each run records the container's,
the load generator's and docker-proxy's CPU, and what bound it (load.limited_by, load.health_limited_by):
"service", "proxy" (the userland port proxy between them), "machine" (the host's CPUs were busy with others)
or "client" (the container had CPU to spare, so the load generator set the throughput). load.pin_proxy pins
docker-proxy to the generator's CPUs; run.network = "host" takes it out of the path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from container_harness.config import HarnessConfig
from container_harness.load.bounded import BoundedRun, bounded_run
from container_harness.load.floor import health_floor_spec
from container_harness.load.latency import read_raw_times
from container_harness.load.runner import LoadResult
from container_harness.ownership import EngineSession
from container_harness.report.results import Results
from container_harness.run.container import RunningContainer
from container_harness.specs import LoadSpec


def scenario_problems(
    engine: EngineSession, config: HarnessConfig, running: RunningContainer, spec: LoadSpec, results: Results
) -> list[str]:
    """The scenario's run, its plots and (load.health_floor) the health floor, recorded; what went wrong, in
    words: no stats samples, failed requests."""
    load = config.load
    reports = config.report_path.parent
    run = bounded_run(
        running,
        spec,
        reports / "load",
        f"load-testing it with {load.locustfile}",
        pin_proxy=load.pin_proxy,
        locust_reports=load.locust_reports,
        engine=engine,
    )
    result = run.result
    _record(results, result)
    results.record("load.users", load.users)
    results.record("load.warmup_s", load.warmup_s, unit="s")
    results.record("load.cpuset", f"container={load.container_cpuset or 'any'} locust={load.locust_cpuset or 'any'}")
    results.record("memory.load_peak_bytes", run.peak_memory_bytes, unit="bytes")
    results.record("cpu.load_percent", round(run.container_cpu_percent, 1), unit="%")
    results.record("load.proxy_pinned", load.pin_proxy)
    _record_bound(results, "load.", run)
    _plot(results, config, result, reports)
    problems = [] if run.samples else [f"no stats samples from {running.container.name} during the load run"]
    if result.failures:
        problems.append(f"{result.failures} of the scenario's requests failed (see {result.log_path})")
    if load.health_floor:
        problems += _health_floor(engine, config, running, spec, result, results)
    return problems


def curve_points(config: HarnessConfig, running: RunningContainer, spec: LoadSpec, results: Results) -> list[Any]:
    """The latency-throughput curve (capacity, then paced rates) with its knee and PNG, recorded; its points."""
    from container_harness.jobs.curve import measure_curve  # draws with matplotlib (the `load` extra)

    reports = config.report_path.parent
    figures, png = measure_curve(running, spec, config.load, reports, str(config.tag))
    results.record("load.curve", figures)
    results.record("load.curve_png", os.path.relpath(png, reports))
    points: list[Any] = figures["points"]
    return points


def _plot(results: Results, config: HarnessConfig, result: LoadResult, reports: Path) -> None:
    """The latency histogram per endpoint and latency over time, as PNGs beside the report."""
    # Here, not at the top: matplotlib comes with the `load` extra, which a run without load does not need.
    from container_harness.report.latency_plot import plot_latency_histogram, plot_latency_over_time

    title = f"{config.tag}, {config.load.users} users"
    by_endpoint: dict[str, list[float]] = {}
    for record in result.measured:
        by_endpoint.setdefault(record.name, []).append(record.response_ms)
    histogram = plot_latency_histogram(by_endpoint, reports / "latency_histogram.png", title)
    results.record("load.histogram", os.path.relpath(histogram, reports))
    every = read_raw_times(result.raw_times_path)
    over_time = plot_latency_over_time(every, config.load.warmup_s, reports / "latency_over_time.png", title)
    results.record("load.latency_over_time", os.path.relpath(over_time, reports))


def _health_floor(
    engine: EngineSession,
    config: HarnessConfig,
    running: RunningContainer,
    spec: LoadSpec,
    scenario: LoadResult,
    results: Results,
) -> list[str]:
    """The same load on the health path alone (the harness's own locustfile): the service's floor; failures."""
    health_path = config.run.health_path
    floor_run = bounded_run(
        running,
        health_floor_spec(spec, health_path),
        config.report_path.parent / "health",
        f"load-testing its health path {health_path}",
        pin_proxy=config.load.pin_proxy,
        engine=engine,
    )
    floor = floor_run.result
    results.record("load.health_rps", round(floor.rps, 1), unit="req/s")
    _record_bound(results, "load.health_", floor_run)
    results.record("load.health_p50_ms", round(floor.p50_ms, 3), unit="ms")
    results.record("load.health_failures", floor.failures)
    results.record("load.scenario_to_health_ratio", round(scenario.rps / floor.rps, 3))
    return [f"{floor.failures} health requests failed (see {floor.log_path})"] if floor.failures else []


def _record(results: Results, result: LoadResult) -> None:
    """The scenario's figures under load.*, and per request name under load.endpoints.<name>.* (a dot in
    the name becomes "_", since dots separate the parts of a figure's name)."""
    results.record("load.duration_s", round(result.window_s, 2), unit="s")
    results.record("load.requests", result.requests)
    results.record("load.recorded_requests", result.recorded)
    results.record("load.failures", result.failures)
    results.record("load.rps", round(result.rps, 1), unit="req/s")
    for name in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms"):
        results.record(f"load.{name}", round(getattr(result, name), 3), unit="ms")
    for endpoint, latency in result.endpoints.items():
        for figure, value in latency.to_report().items():
            unit = "ms" if figure.endswith("_ms") else "req/s" if figure == "rps" else None
            results.record(f"load.endpoints.{endpoint.replace('.', '_')}.{figure}", value, unit=unit)


def _record_bound(results: Results, prefix: str, run: BoundedRun) -> None:
    """The share of its CPUs the container used, the generator's and docker-proxy's CPU, and which one bound the
    run (the proxy's figure is "not visible" when no docker-proxy for the port is in this PID namespace); with
    local workers, the master's CPU and each worker's requests, rps, CPU and CPUs (workers.<id>.*)."""
    results.record(f"{prefix}cpu_saturation", round(run.cpu_saturation, 3))
    results.record(f"{prefix}generator_cpu_percent", round(run.generator_cpu_percent, 1), unit="%")
    proxy = "not visible" if run.proxy_cpu_percent is None else round(run.proxy_cpu_percent, 1)
    results.record(f"{prefix}proxy_cpu_percent", proxy, unit="%")
    if run.host_busy is not None:
        results.record(f"{prefix}machine_busy", round(run.host_busy, 3))
    results.record(f"{prefix}limited_by", run.limited_by)
    results.record(f"{prefix}processes", run.processes)
    if run.generators_needed is not None:
        results.record(f"{prefix}generators_needed", run.generators_needed)
    if run.result.master_cpu_percent is not None:
        results.record(f"{prefix}master_cpu_percent", round(run.result.master_cpu_percent, 1), unit="%")
    for worker in run.result.workers:
        for figure, value in worker.to_report().items():
            unit = "%" if figure == "cpu_percent" else "req/s" if figure == "rps" else None
            results.record(f"{prefix}workers.{worker.id}.{figure}", value, unit=unit)
