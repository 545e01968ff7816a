"""Memory and CPU figures from one Docker stats payload, computed exactly as the docker CLI does, and what
limited a load run: the service's CPUs, the port proxy or its client (pure)."""

from __future__ import annotations

from typing import Any


def memory_bytes(stats: dict[str, Any]) -> int:
    """Usage minus inactive file cache: total_inactive_file on cgroup v1, inactive_file on v2 (docker CLI)."""
    memory = stats.get("memory_stats") or {}
    usage = int(memory.get("usage") or 0)
    detail = memory.get("stats") or {}
    if "total_inactive_file" in detail and detail["total_inactive_file"] < usage:
        return usage - int(detail["total_inactive_file"])
    inactive = int(detail.get("inactive_file") or 0)
    return usage - inactive if inactive < usage else usage


def has_previous_sample(stats: dict[str, Any]) -> bool:
    """Whether precpu_stats holds a real earlier sample (the first payload of a stream has zeros)."""
    return bool((stats.get("precpu_stats") or {}).get("system_cpu_usage"))


def cpu_percent(stats: dict[str, Any]) -> float:
    """Container CPU time over host CPU time since precpu_stats, times online CPUs, in % (docker CLI)."""
    current = stats.get("cpu_stats") or {}
    previous = stats.get("precpu_stats") or {}
    cpu_delta = _total_usage(current) - _total_usage(previous)
    system_delta = float(current.get("system_cpu_usage") or 0) - float(previous.get("system_cpu_usage") or 0)
    online = float(
        current.get("online_cpus") or len((current.get("cpu_usage") or {}).get("percpu_usage") or [])
    )
    if system_delta > 0 and cpu_delta > 0:
        return cpu_delta / system_delta * online * 100.0
    return 0.0


def cpuset_cpus(cpuset: str) -> set[int]:
    """The CPUs a cpuset names, as docker's --cpuset-cpus and taskset -c take it ("0", "0-2,5")."""
    cpus: set[int] = set()
    for part in cpuset.split(","):
        first, dash, last = part.strip().partition("-")
        last = last if dash else first
        if not (first.isdigit() and last.isdigit()) or int(last) < int(first):
            raise ValueError(f"not a cpuset: {cpuset!r} (expected CPUs such as 0, 0-2 or 0,2)")
        cpus.update(range(int(first), int(last) + 1))
    return cpus


def cpuset_size(cpuset: str) -> int:
    """How many CPUs a cpuset names."""
    return len(cpuset_cpus(cpuset))


def cpu_capacity(host_config: dict[str, Any], engine_cpus: int) -> float:
    """How many CPUs a container may use: the tightest of the engine's CPUs, its cpuset, --cpus and its quota."""
    limits = [float(engine_cpus)]
    if host_config.get("CpusetCpus"):
        limits.append(float(cpuset_size(host_config["CpusetCpus"])))
    if host_config.get("NanoCpus"):
        limits.append(host_config["NanoCpus"] / 1e9)
    if host_config.get("CpuQuota", 0) > 0 and host_config.get("CpuPeriod"):
        limits.append(host_config["CpuQuota"] / host_config["CpuPeriod"])
    return min(limits)


_MACHINE_BUSY = 0.9


def limited_by(
    cpu_saturation: float,
    saturated: float = 0.8,
    *,
    generator_saturation: float | None = None,
    proxy_saturation: float | None = None,
    host_saturation: float | None = None,
) -> str:
    """What bound a load run: "service", "proxy", "machine" or "client".

    "service" when the container used `saturated` of its CPUs or more. Otherwise "proxy" when docker-proxy used
    `saturated` of a core or more and at least as much as the load generator of its own ceiling, so the
    userland proxy between them set the pace; otherwise "client": the load generator (its CPU, when its
    saturation says so, or its number of users in a closed loop) set the throughput, which is then a floor of
    what the service can do. "machine" when none of the three was saturated but the machine's CPUs were (at
    least 0.9 busy): other processes took the CPU, as on a shared machine. Saturations are fractions of what
    each may use: the container's CPUs, one core per Locust process, one core for the proxy, all the host's.
    """
    if cpu_saturation >= saturated:
        return "service"
    proxy = proxy_saturation or 0.0
    generator = generator_saturation or 0.0
    if proxy >= saturated and proxy >= generator:
        return "proxy"
    if generator < saturated and (host_saturation or 0.0) >= _MACHINE_BUSY:
        return "machine"
    return "client"


def _total_usage(cpu_stats: dict[str, Any]) -> float:
    """Total CPU nanoseconds the container used, from one cpu_stats block."""
    return float((cpu_stats.get("cpu_usage") or {}).get("total_usage") or 0)
