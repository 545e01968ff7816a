"""Start a container of an image, time it to its first healthy HTTP answer and to Docker's health status."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any, Literal

import docker
import requests
from docker.errors import DockerException, NotFound
from docker.models.containers import Container

from container_harness.errors import (
    ConfigError,
    ContainerExitedError,
    ImageError,
    ReadinessTimeoutError,
    format_tail,
)
from container_harness.ownership import EngineSession
from container_harness.run.listeners import diagnose, read_listeners
from container_harness.run.reach import Reach, plan_reach
from container_harness.specs import RunSpec

# testcontainers' waits poll once a second and its start() creates and starts in one call, so neither the
# start moment nor the ready moment could be timed finer than 1 s; the Docker SDK and this loop can.
_POLL_S = 0.02
_STATE_EVERY_S = 0.25
_REQUEST_TIMEOUT_S = 2.0
_NS_PER_S = 1_000_000_000
# While no 2xx comes, the container's listening sockets are read every second from this long after the start;
# the same diagnosis twice in a row (a wrong port, a 127.0.0.1-only listener) ends the wait at once.
_DIAGNOSE_AFTER_S = 2.0
_DIAGNOSE_EVERY_S = 1.0
_log = logging.getLogger(__name__)
HealthStatus = Literal["healthy", "unhealthy"]


class RunningContainer:
    """A started container, where it is reached (host, host_port), its start-up timing and a clean way out."""

    def __init__(
        self,
        container: Container,
        image_ref: str,
        spec: RunSpec,
        reach: Reach,
        started: float,
        name: str | None = None,
    ):
        self.container = container
        self.image_ref = image_ref
        self.name = name or image_ref  # how messages name the image: its tag when known
        self.spec = spec
        self.reach = reach
        self.host, self.host_port = _address(container, spec.port, reach, "starting")
        self.started = started
        self.ready_s: float | None = None

    def __enter__(self) -> RunningContainer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def url(self, path: str = "") -> str:
        """URL at which this process reaches the service, with an optional path."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.host_port}{path}"

    def logs_tail(self, n: int = 30) -> list[str]:
        """The container's last n log lines (stdout and stderr)."""
        return _logs_tail(self.container, n)

    def wait_ready(self, timeout_s: float | None = None) -> float:
        """Poll the health path every ~20 ms until a 2xx; seconds from start (also stored in ready_s)."""
        timeout_s = self.spec.ready_timeout_s if timeout_s is None else timeout_s
        url = self.url(self.spec.health_path)
        deadline = self.started + timeout_s
        next_state_check = 0.0
        next_diagnosis = self.started + _DIAGNOSE_AFTER_S
        diagnosis: str | None = None
        last_seen = "no answer yet"
        with requests.Session() as http:
            while True:
                try:
                    answer = http.get(url, timeout=_REQUEST_TIMEOUT_S)
                    if 200 <= answer.status_code < 300:
                        self.ready_s = time.monotonic() - self.started
                        return self.ready_s
                    last_seen = f"HTTP {answer.status_code}: {answer.text[:200]!r}"
                except requests.RequestException as exc:
                    last_seen = f"{type(exc).__name__}: {exc}"
                now = time.monotonic()
                if now >= next_state_check:
                    raise_if_exited(self.container, f"waiting for a 2xx from {url}")
                    next_state_check = now + _STATE_EVERY_S
                if now >= next_diagnosis:
                    diagnosis = self._diagnose(url, diagnosis)
                    next_diagnosis = now + _DIAGNOSE_EVERY_S
                if now >= deadline:
                    raise ReadinessTimeoutError(
                        f"container {self.container.short_id} of {self.name} gave no 2xx on {url} "
                        f"within {timeout_s:g} s (expected a 2xx; last seen: {last_seen}). "
                        f"{format_tail(self.logs_tail())}",
                        hint=f"check that the service listens on port {self.spec.port} on all interfaces "
                        f"(0.0.0.0, not 127.0.0.1) and serves {self.spec.health_path}",
                    )
                time.sleep(_POLL_S)

    def _diagnose(self, url: str, earlier: str | None) -> str | None:
        """This moment's reason the service cannot answer; the same reason twice ends the wait."""
        listeners = read_listeners(self.container)
        diagnosis = diagnose(listeners, self.spec.port) if listeners is not None else None
        if diagnosis is not None and diagnosis == earlier:
            raise ReadinessTimeoutError(
                f"container {self.container.short_id} of {self.name} cannot answer on {url}: {diagnosis}. "
                f"{format_tail(self.logs_tail(10))}",
                hint=f"run.port is {self.spec.port}; the image's EXPOSE and the server's bind address must agree",
            )
        return diagnosis

    def wait_health(self, status: HealthStatus = "healthy", timeout_s: float = 60.0) -> float:
        """Poll Docker's health status every ~20 ms until it equals `status`; seconds since start."""
        deadline = self.started + timeout_s
        seen = "none"
        while True:
            self.container.reload()
            state = self.container.attrs["State"]
            health = state.get("Health")
            if health is None:
                raise ImageError(
                    f"container {self.container.short_id} of {self.image_ref} has no health check, so it can "
                    f"never be {status}",
                    hint="add a HEALTHCHECK to the image, or leave the health checks out of `checks`",
                )
            seen = health.get("Status", "none")
            if seen == status:
                return time.monotonic() - self.started
            if not state.get("Running"):
                raise _exited(self.container, state, f"waiting for health status {status}")
            if time.monotonic() >= deadline:
                probes = [str(entry.get("Output", "")).strip() for entry in health.get("Log") or []]
                raise ReadinessTimeoutError(
                    f"container {self.container.short_id} of {self.image_ref} did not become {status} within "
                    f"{timeout_s:g} s (last seen: {seen}, failing streak {health.get('FailingStreak')}). "
                    f"{format_tail(probes[-3:], 'last health-check outputs')}"
                )
            time.sleep(_POLL_S)

    def restart(self, timeout_s: float = 10) -> float:
        """Stop and start again, then wait until ready: the published port may change; ready_s is re-measured.

        Stop and start rather than `docker restart`, so the clock starts when the container does.
        """
        self.container.stop(timeout=int(timeout_s))
        self.started = time.monotonic()
        self.container.start()
        self.ready_s = None
        self.host, self.host_port = _address(self.container, self.spec.port, self.reach, "restarting")
        return self.wait_ready()

    def stop(self, timeout_s: float = 10) -> int:
        """Stop (SIGTERM, then SIGKILL after timeout_s) and return the exit code."""
        self.container.stop(timeout=int(timeout_s))
        self.container.reload()
        return int(self.container.attrs["State"]["ExitCode"])

    def remove(self) -> None:
        """Remove the container and its anonymous volumes (nothing if it is gone already)."""
        with contextlib.suppress(NotFound):
            self.container.remove(force=True, v=True)


def raise_if_exited(container: Container, doing: str) -> None:
    """ContainerExitedError (state, exit code, last logs) when the container no longer runs; `doing` says when."""
    container.reload()
    state = container.attrs["State"]
    if not state.get("Running"):
        raise _exited(container, state, doing)


def _logs_tail(container: Container, n: int) -> list[str]:
    """A container's last n log lines (stdout and stderr; none when the engine cannot give them)."""
    try:
        raw = container.logs(tail=n)
    except DockerException:
        return []
    return bytes(raw).decode("utf-8", "replace").splitlines()


def _exited(container: Container, state: dict[str, Any], doing: str) -> ContainerExitedError:
    """ContainerExitedError naming the exit code (and an OOM kill) with the container's last logs."""
    code = state.get("ExitCode")
    tail = _logs_tail(container, 30)
    image = container.attrs["Config"]["Image"]
    return ContainerExitedError(
        f"container {container.short_id} of {image} stopped ({state.get('Status')}, "
        f"exit code {code}{', killed for lack of memory' if state.get('OOMKilled') else ''}) "
        f"while {doing}. {format_tail(tail)}",
        exit_code=code,
        log_tail=tail,
    )


def start_container(
    session: EngineSession, image_ref: str, spec: RunSpec, *, wait_ready: bool = True, name: str | None = None
) -> RunningContainer:
    """Create and start a labelled container publishing spec.port on a random port where this process can
    reach it (container_harness.run.reach: testcontainers' host, or spec.host / spec.bind).

    With wait_ready, returns once the health path answers 2xx (ready_s set). On failure the container is
    removed (unless the session keeps objects) and ContainerExitedError or ReadinessTimeoutError says why.
    A port the image does not EXPOSE (when it exposes any) is a ConfigError before anything starts. `name`
    (the image's tag) is how messages name the image.
    """
    client = session.client
    check_port_exposed(client.images.get(image_ref).attrs, spec.port, name or image_ref)
    reach = plan_reach(spec.host, spec.bind)
    container = client.containers.create(image_ref, **_create_kwargs(client, image_ref, spec, session, reach))
    try:
        started = time.monotonic()
        container.start()
        running = RunningContainer(container, image_ref, spec, reach, started, name)
        _log.info("container %s of %s started, reached at %s", container.short_id, running.name, running.url())
        if wait_ready:
            running.wait_ready()
            _log.info("container %s answered 2xx after %.3f s", container.short_id, running.ready_s or 0.0)
    except BaseException:
        if not session.keep:
            container.remove(force=True, v=True)
        raise
    return running


def check_port_exposed(image_attrs: dict[str, Any], port: int, name: str) -> None:
    """ConfigError when the image EXPOSEs ports and `port` is not one of them (no EXPOSE: nothing to say)."""
    exposed = sorted((image_attrs.get("Config") or {}).get("ExposedPorts") or {})
    if exposed and f"{port}/tcp" not in exposed:
        raise ConfigError(
            f"run.port is {port}, but {name} EXPOSEs {', '.join(exposed)}",
            hint="set run.port to the port the service listens on (or fix the image's EXPOSE)",
        )


def _address(container: Container, port: int, reach: Reach, doing: str) -> tuple[str, int]:
    """Where a just-started container's `port` is reached (ContainerExitedError if it died already).

    On the host's network the port is the engine host's own: reached at the engine's host, or here.
    """
    raise_if_exited(container, doing)
    if container.attrs["HostConfig"]["NetworkMode"] == "host":
        return reach.host or "127.0.0.1", port
    bindings = container.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
    if not bindings:
        image = container.attrs["Config"]["Image"]
        mode = container.attrs["HostConfig"]["NetworkMode"]
        raise ImageError(
            f"container {container.short_id} of {image} published no port {port}",
            hint=f"the harness publishes run.port ({port}), which the {mode!r} network mode does not allow; "
            'run on the default bridge (no run.network) or with run.network = "host"',
        )
    return reach.address(container, port, int(bindings[0]["HostPort"]))


def _create_kwargs(
    client: docker.DockerClient, image_ref: str, spec: RunSpec, session: EngineSession, reach: Reach
) -> dict[str, Any]:
    """Docker SDK create() arguments for a spec; only what the spec sets is passed."""
    kwargs: dict[str, Any] = {
        "labels": session.labels(),
        "environment": dict(spec.env),
        "ports": {} if spec.network == "host" else {f"{spec.port}/tcp": (reach.bind, None)},
        "volumes": dict(spec.volumes),
        "read_only": spec.read_only,
    }
    optional = {
        "cpuset_cpus": spec.cpuset,
        "mem_limit": spec.mem_limit,
        "nano_cpus": spec.nano_cpus,
        "tmpfs": spec.tmpfs,
        "cap_drop": spec.cap_drop,
        "security_opt": spec.security_opt,
        "command": spec.command,
        "network_mode": spec.network,
        "network": None if spec.network else reach.network,
    }
    kwargs.update({key: value for key, value in optional.items() if value is not None})
    if spec.health_interval_s is not None:
        healthcheck = _faster_healthcheck(client, image_ref, spec.health_interval_s)
        if healthcheck is not None:
            kwargs["healthcheck"] = healthcheck
    return kwargs


def _faster_healthcheck(
    client: docker.DockerClient, image_ref: str, interval_s: float
) -> dict[str, Any] | None:
    """The image's health check with another interval (None when the image has none)."""
    image_check = (client.images.get(image_ref).attrs.get("Config") or {}).get("Healthcheck") or {}
    if not image_check.get("Test") or image_check["Test"] == ["NONE"]:
        return None
    check: dict[str, Any] = {"test": image_check["Test"], "interval": int(interval_s * _NS_PER_S)}
    for source, target in (("Timeout", "timeout"), ("StartPeriod", "start_period"), ("Retries", "retries")):
        if image_check.get(source):
            check[target] = image_check[source]
    return check
