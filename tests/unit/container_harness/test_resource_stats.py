"""Memory and CPU from stats payloads captured on this engine, checked against the docker CLI's figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from container_harness.measure.usage import (
    cpu_capacity,
    cpu_percent,
    cpuset_size,
    has_previous_sample,
    limited_by,
    memory_bytes,
)

PAYLOADS = Path(__file__).parent / "payloads"
MIB = 1024 * 1024


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


def test_memory_on_cgroup_v1_is_usage_minus_total_inactive_file() -> None:
    stats = _load("stats_busy.json")
    assert memory_bytes(stats) == 2457600 - 278528
    idle = _load("stats_idle.json")
    assert memory_bytes(idle) == 2338816 - 1679360


def test_memory_on_cgroup_v2_is_usage_minus_inactive_file() -> None:
    stats = {"memory_stats": {"usage": 10_000, "stats": {"inactive_file": 4_000, "anon": 6_000}}}
    assert memory_bytes(stats) == 6_000


def test_memory_keeps_usage_when_the_cache_figure_is_not_smaller() -> None:
    v1 = {"memory_stats": {"usage": 1_000, "stats": {"total_inactive_file": 1_000, "inactive_file": 200}}}
    assert memory_bytes(v1) == 800  # the CLI falls through to inactive_file, as here
    assert memory_bytes({"memory_stats": {"usage": 500, "stats": {"inactive_file": 900}}}) == 500
    assert memory_bytes({"memory_stats": {}}) == 0


def test_cpu_percent_is_container_delta_over_system_delta_times_cpus() -> None:
    stats = _load("stats_busy.json")
    expected = (2054159030 - 1054385112) / (21125310000000 - 21123320000000) * 2 * 100
    assert cpu_percent(stats) == pytest.approx(expected)
    assert cpu_percent(_load("stats_idle.json")) == 0.0  # no CPU time used between the two samples


def test_busy_container_figures_match_docker_stats_cli() -> None:
    """The CLI read the same busy container about a second after the payload; between two reads one busy
    loop moves the CPU figure by a few tenths of a percent and the memory by a few pages, so the tolerance
    is 2 percentage points for CPU and 64 KiB for memory (the CLI also rounds to 0.001 MiB)."""
    stats = _load("stats_busy.json")
    cli = _load("docker_stats_cli.json")
    cli_cpu = float(cli["CPUPerc"].rstrip("%"))
    cli_memory = float(cli["MemUsage"].split("/")[0].strip().removesuffix("MiB")) * MIB
    assert cpu_percent(stats) == pytest.approx(cli_cpu, abs=2.0)
    assert memory_bytes(stats) == pytest.approx(cli_memory, abs=64 * 1024)
    # The cache subtraction matters: raw usage would be outside the tolerance.
    assert abs(memory_bytes(stats) - stats["memory_stats"]["usage"]) > 64 * 1024


def test_first_stream_payload_has_no_previous_sample() -> None:
    stats = _load("stats_busy.json")
    assert has_previous_sample(stats)
    first = {**stats, "precpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}}}
    assert not has_previous_sample(first)


@pytest.mark.parametrize(("cpuset", "cpus"), [("0", 1), ("1", 1), ("0-3", 4), ("0,2", 2), ("0-2,5,7-8", 6)])
def test_cpuset_size_counts_the_cpus_docker_would_pin(cpuset: str, cpus: int) -> None:
    assert cpuset_size(cpuset) == cpus


@pytest.mark.parametrize("cpuset", ["", "a", "0-", "3-1", "0,,1", "-1"])
def test_cpuset_size_rejects_what_docker_would_reject(cpuset: str) -> None:
    with pytest.raises(ValueError, match="not a cpuset"):
        cpuset_size(cpuset)


# HostConfig fields as this engine reports them for `docker create --cpuset-cpus 0 --cpus 0.5`,
# `--cpu-quota 150000 --cpu-period 100000` and no limit, on a 2-CPU engine.
@pytest.mark.parametrize(
    ("host_config", "capacity"),
    [
        ({"CpusetCpus": "0", "NanoCpus": 500000000, "CpuQuota": 0, "CpuPeriod": 0}, 0.5),
        ({"CpusetCpus": "0", "NanoCpus": 0, "CpuQuota": 0, "CpuPeriod": 0}, 1.0),
        ({"CpusetCpus": "", "NanoCpus": 0, "CpuQuota": 150000, "CpuPeriod": 100000}, 1.5),
        ({"CpusetCpus": "", "NanoCpus": 0, "CpuQuota": 0, "CpuPeriod": 0}, 2.0),
        ({"CpusetCpus": "0-3", "NanoCpus": 0, "CpuQuota": 0, "CpuPeriod": 0}, 2.0),
    ],
)
def test_cpu_capacity_is_the_tightest_limit_on_the_container(host_config: dict[str, Any], capacity: float) -> None:
    assert cpu_capacity(host_config, engine_cpus=2) == capacity


@pytest.mark.parametrize(
    ("saturation", "bound"), [(0.97, "service"), (0.8, "service"), (1.3, "service"), (0.79, "client"), (0.0, "client")]
)
def test_a_run_is_service_bound_only_when_the_container_used_its_cpus(saturation: float, bound: str) -> None:
    assert limited_by(saturation) == bound


@pytest.mark.parametrize(
    ("service", "generator", "proxy", "bound"),
    [
        (0.9, 1.0, 1.0, "service"),
        (0.3, 0.95, 0.5, "client"),
        (0.3, 0.5, 0.85, "proxy"),
        (0.3, 0.9, 0.85, "client"),
        (0.3, 0.2, None, "client"),
    ],
)
def test_the_proxy_or_the_generator_is_named_when_the_service_had_cpu_to_spare(
    service: float, generator: float, proxy: float | None, bound: str
) -> None:
    assert limited_by(service, generator_saturation=generator, proxy_saturation=proxy) == bound


def test_a_busy_machine_is_named_when_none_of_ours_was_saturated() -> None:
    assert limited_by(0.13, generator_saturation=0.12, proxy_saturation=0.0, host_saturation=0.97) == "machine"
    assert limited_by(0.13, generator_saturation=0.95, host_saturation=0.97) == "client"
    assert limited_by(0.85, host_saturation=1.0) == "service"
