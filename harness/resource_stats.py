"""Memory and CPU figures from one Docker stats payload, computed exactly as the docker CLI does (pure)."""

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


def _total_usage(cpu_stats: dict[str, Any]) -> float:
    """Total CPU nanoseconds the container used, from one cpu_stats block."""
    return float((cpu_stats.get("cpu_usage") or {}).get("total_usage") or 0)
