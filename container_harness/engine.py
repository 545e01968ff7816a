"""Connect to the Docker engine and describe it (for the report's environment section)."""

from __future__ import annotations

import os
from typing import Any

import docker
from docker.errors import DockerException

from container_harness.errors import EngineUnavailableError

# Builds and stats streams can stay silent for minutes; only the first ping uses the short timeout.
_API_TIMEOUT_S = 900


def connect(timeout_s: float = 10) -> docker.DockerClient:
    """Client for the engine named by DOCKER_HOST (or the default socket), pinged once to fail early."""
    target = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock (default; DOCKER_HOST is unset)"
    try:
        client = docker.from_env(timeout=timeout_s)
        client.ping()
    except (DockerException, OSError) as exc:
        raise EngineUnavailableError(
            f"cannot reach the Docker engine at {target}: {exc}",
            hint="start the Docker daemon, point DOCKER_HOST at it, or check that your user may use the socket "
            "(e.g. membership of the docker group); `docker info` should answer",
        ) from exc
    client.api.timeout = _API_TIMEOUT_S
    return client


def engine_facts(client: docker.DockerClient) -> dict[str, Any]:
    """Engine version, API version, CPUs, memory, kernel, OS, storage driver and cgroup version."""
    info = client.info()
    version = client.version()
    return {
        "engine_version": version.get("Version"),
        "api_version": client.api.api_version,
        "cpus": info.get("NCPU"),
        "memory_bytes": info.get("MemTotal"),
        "kernel": info.get("KernelVersion"),
        "os": info.get("OperatingSystem"),
        "storage_driver": info.get("Driver"),
        "cgroup_version": info.get("CgroupVersion"),
    }
