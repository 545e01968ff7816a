"""The plugin's containers: the built image started with the configured run settings, timed to ready, healthy and
unhealthy, answering with a folder mounted and without, and measured idle; figures recorded under startup.*,
volume.*, memory.* and cpu.* for the checks to judge."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from container_harness.config import HarnessConfig, UnhealthyConfig, VolumeConfig, run_spec
from container_harness.image.inspect import ImageFacts
from container_harness.measure.usage_sampler import IdleStats, idle_stats
from container_harness.ownership import EngineSession
from container_harness.report.results import Results
from container_harness.run.container import RunningContainer, start_container
from container_harness.run.mounts import folder_mount
from container_harness.summary import median, spread

_DOCKER_HEALTH_INTERVAL_S = 30.0  # what Docker uses when a HEALTHCHECK gives no --interval

StartContainer = Callable[..., RunningContainer]


def start_configured(
    engine: EngineSession,
    config: HarnessConfig,
    image_id: str,
    *,
    wait_ready: bool = True,
    image: str | None = None,
    **overrides: Any,
) -> RunningContainer:
    """A container of the built image (or of `image`) with the configured run settings and RunSpec overrides."""
    spec = run_spec(config, **overrides)
    name = config.tag if image is None else image
    return start_container(engine, image or image_id, spec, wait_ready=wait_ready, name=name)


def user_id(running: RunningContainer) -> str | None:
    """The uid the container's processes run as (`id -u` inside it), None when the command fails."""
    exit_code, output = running.container.exec_run(["id", "-u"])
    return output.decode().strip() if exit_code == 0 else None


def time_startups(start: StartContainer, config: HarnessConfig, results: Results) -> None:
    """Seconds from start to the first healthy HTTP answer over `start_repeats` fresh containers, recorded."""
    ready: list[float] = []
    for _ in range(config.start_repeats):
        running = start()
        assert running.ready_s is not None, "start waits for the first 2xx, so ready_s is set"
        ready.append(round(running.ready_s, 4))
        running.remove()
    results.record("startup.ready_s", ready, unit="s")
    results.record("startup.ready_median_s", round(median(ready), 4), unit="s")
    results.record("startup.ready_spread_s", {key: round(value, 4) for key, value in spread(ready).to_report().items()})


def time_healthy(start: StartContainer, image: ImageFacts, config: HarnessConfig, results: Results) -> None:
    """Seconds until Docker reports `healthy`, probed at the image's interval unless run.health_interval_s says;
    both intervals recorded, and a note when they differ."""
    interval = config.run.health_interval_s
    running = start(health_interval_s=interval)
    healthy_s = running.wait_health("healthy", timeout_s=config.run.health_timeout_s)
    results.record("startup.healthy_s", round(healthy_s, 4), unit="s")
    image_interval = (image.healthcheck or {}).get("interval_s") or _DOCKER_HEALTH_INTERVAL_S
    results.record("startup.image_health_interval_s", image_interval, unit="s")
    results.record("startup.health_interval_s", image_interval if interval is None else interval, unit="s")
    if interval is not None and interval != image_interval:
        results.note(
            f"startup.healthy_s was probed every {interval:g} s (run.health_interval_s), "
            f"not at the image's own HEALTHCHECK interval of {image_interval} s"
        )


def time_unhealthy(start: StartContainer, config: HarnessConfig, broken: UnhealthyConfig, results: Results) -> None:
    """Seconds until Docker reports `unhealthy` under the broken settings, recorded."""
    overrides: dict[str, Any] = {"env": broken.env, "health_interval_s": config.run.health_interval_s}
    if broken.command is not None:
        overrides["command"] = broken.command
    running = start(wait_ready=False, **overrides)
    unhealthy_s = running.wait_health("unhealthy", timeout_s=config.run.health_timeout_s)
    results.record("startup.unhealthy_s", round(unhealthy_s, 4), unit="s")


def volume_problems(
    engine: EngineSession,
    start: StartContainer,
    image_id: str,
    config: HarnessConfig,
    volume: VolumeConfig,
    results: Results,
) -> list[str]:
    """The service's answers with the host folder mounted and without it, recorded; what was wrong, in words.

    Where the engine cannot see the caller's folder, a copy of it in a labelled volume is mounted instead.
    """
    host = config.path(volume.host)
    if not host.is_dir():
        return [f"volume.host {host} is not a directory"]
    mount, how = folder_mount(engine, image_id, host, volume.target, read_only=volume.read_only, kind=volume.mount)
    results.record("volume.mounted_from", how)
    results.record("volume.target", volume.target)
    mounted = start(volumes=mount).url(volume.check_path)
    problem = _answer_problem(mounted, volume.expect_json, results, "volume.mounted_answer")
    if problem is not None:
        return [f"with {host} mounted at {volume.target}, {problem}"]
    if volume.default_json is None:
        return []
    default = start().url(volume.check_path)
    problem = _answer_problem(default, volume.default_json, results, "volume.default_answer")
    return [] if problem is None else [f"without the volume, {problem}"]


def idle_usage(running: RunningContainer, config: HarnessConfig, results: Results) -> IdleStats:
    """Median memory (as `docker stats` computes it) and CPU % of a container nobody talks to, recorded when
    sampled: sampling starts idle_settle_s after its first 2xx and lasts idle_seconds."""
    assert running.ready_s is not None, "the container was started waiting for its first 2xx"
    time.sleep(max(0.0, running.started + running.ready_s + config.idle_settle_s - time.monotonic()))
    stats = idle_stats(running.container, seconds=config.idle_seconds)
    if stats.samples:
        results.record("memory.idle_started_after_ready_s", config.idle_settle_s, unit="s")
        results.record("memory.idle_bytes", stats.memory_bytes, unit="bytes")
        results.record("cpu.idle_percent", round(stats.cpu_percent, 3), unit="%")
        results.record("memory.idle_samples", len(stats.samples))
    return stats


def _answer_problem(url: str, expected: Mapping[str, Any], results: Results, figure: str) -> str | None:
    """GET url and record the part of its JSON answer `expected` names; what differs from it, or None."""
    answer = requests.get(url, timeout=10)
    if not answer.ok:
        return f"GET {url} answered {answer.status_code}: {answer.text[:300]}"
    body = answer.json()
    results.record(figure, {key: body.get(key) for key in expected} if isinstance(body, dict) else body)
    if isinstance(body, dict) and all(body.get(key) == value for key, value in expected.items()):
        return None
    return f"GET {url} answered {body}; expected it to contain {dict(expected)}"
