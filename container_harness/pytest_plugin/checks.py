"""The built-in checks' test functions; `catalogue.py` says when each runs and the plugin collects them.

Each check measures through the plugin's fixtures, records its figures (they reach report.json) and asserts
what the configuration expects. Budgets are one test each and run after every other test of the session.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import requests

from container_harness.build.log import BuildStep
from container_harness.build.timer import BuildRun, BuildTimings
from container_harness.config import HarnessConfig
from container_harness.gate.budgets import Budget, evaluate
from container_harness.image import layer_waste
from container_harness.image.inspect import ImageFacts, matching
from container_harness.measure.usage_sampler import idle_stats
from container_harness.ownership import EngineSession
from container_harness.pytest_plugin import judgements
from container_harness.report.results import Results
from container_harness.run.container import RunningContainer
from container_harness.run.mounts import folder_mount
from container_harness.summary import median, spread

# Steps that make no layer: the classic builder never shows them cached, BuildKit marks FROM cached even in
# a --no-cache build (the base came from the engine's store). Their cache flag says nothing.
_NO_CACHE_STEPS = ("FROM", "ARG")
_DOCKER_HEALTH_INTERVAL_S = 30.0  # what Docker uses when a HEALTHCHECK gives no --interval
_WASTED_FILES_REPORTED = 10

StartContainer = Callable[..., RunningContainer]


@pytest.mark.container
def full_build(build_timings: BuildTimings) -> None:
    """A build without cache completes and really ran every step."""
    for run in build_timings.full:
        assert run.log.steps, f"the full build of {run.image_id} reported no steps"
        served = _cached(run)
        assert not served, f"a --no-cache build took steps from the cache: {_describe(served)}"


@pytest.mark.container
def cached_rebuild(build_timings: BuildTimings) -> None:
    """Rebuilding with nothing changed serves every step from the cache and is faster than the full build."""
    for run in build_timings.cached:
        missed = _rebuilt(run)
        assert not missed, f"with nothing changed these steps still rebuilt: {_describe(missed)}"
    assert build_timings.cached_s < build_timings.full_s, (
        f"cached rebuild {build_timings.cached_s:.2f} s is not faster than "
        f"the full build {build_timings.full_s:.2f} s"
    )


@pytest.mark.container
def code_change_rebuild(
    build_timings: BuildTimings, harness_config: HarnessConfig, harness_results: Results
) -> None:
    """After a code-only change the change is seen, dependency steps hit the cache, fewer steps run."""
    if harness_config.code_change_path is None:
        pytest.fail(
            "set code_change_path (a source file the image copies in) to measure code-change rebuilds"
        )
    patterns = harness_config.expect.cached_on_code_change
    for run in build_timings.code_change:
        rebuilt = _rebuilt(run)
        assert rebuilt, (
            f"changing {harness_config.code_change_path} rebuilt no step: the file does not reach the image"
        )
        dependencies = [step for step in rebuilt if any(p in step.instruction for p in patterns)]
        assert not dependencies, (
            f"a change to {harness_config.code_change_path} re-ran dependency steps "
            f"{_describe(dependencies)}; copy the code after installing dependencies"
        )
        harness_results.record("build.code_change_rebuilt_steps", [step.instruction for step in rebuilt])
        # Executed steps, not wall times: a large context (uploaded by every build) cannot make this flaky.
        executed = [step for full in build_timings.full[:1] for step in _rebuilt(full)]
        assert len(rebuilt) < len(executed), (
            f"changing {harness_config.code_change_path} re-ran {len(rebuilt)} of the {len(executed)} steps "
            "a full build runs; copy the code as late as possible"
        )


@pytest.mark.container
def dependency_change_rebuild(
    build_timings: BuildTimings, harness_config: HarnessConfig, harness_results: Results
) -> None:
    """After a lock/requirements file changes the rebuild sees it: the rebuild cache mounts exist for."""
    for run in build_timings.dependency_change:
        rebuilt = _rebuilt(run)
        assert rebuilt, f"changing {harness_config.dependency_change_path} rebuilt no step: the build never reads it"
        harness_results.record("build.dependency_change_rebuilt_steps", [step.instruction for step in rebuilt])


@pytest.mark.container
def image_size(built_image: ImageFacts) -> None:
    """The image is measured above the base it was built on: it cannot be smaller than that base."""
    problem = judgements.smaller_than_base(built_image.size_bytes, built_image.base_image, built_image.base_size_bytes)
    assert problem is None, problem


@pytest.mark.container
def image_config(
    built_image: ImageFacts,
    harness_config: HarnessConfig,
    harness_results: Results,
    request: pytest.FixtureRequest,
) -> None:
    """User, exposed ports and HEALTHCHECK are what the configuration expects; root is a policy (policy.non_root)."""
    expect = harness_config.expect
    problems: list[str] = []
    root = judgements.runs_as_root(built_image.user)
    if root is not None and harness_config.policy.non_root:
        problems.append(judgements.enforced(root, "non_root"))
    elif root is not None:
        harness_results.note(judgements.not_enforced(root, "non_root"))
    if expect.uid is not None:
        running: RunningContainer = request.getfixturevalue("running_container")
        exit_code, output = running.container.exec_run(["id", "-u"])
        seen = output.decode().strip()
        if exit_code != 0 or seen != str(expect.uid):
            problems.append(f"the service process should run as uid {expect.uid}; `id -u` gave {seen!r}")
    for port in expect.ports:
        wanted = port if "/" in port else f"{port}/tcp"
        if wanted not in built_image.exposed_ports:
            problems.append(f"port {wanted} is not exposed (exposed: {built_image.exposed_ports})")
    if expect.healthcheck is not None:
        problems += _healthcheck_problems(
            built_image.healthcheck, expect.healthcheck.model_dump(exclude_none=True)
        )
    assert not problems, "\n".join(problems)


@pytest.mark.container
def required_files(built_image_paths: set[str], harness_config: HarnessConfig) -> None:
    """Every configured file is in the image."""
    missing = [path for path in harness_config.expect.files if path.rstrip("/") not in built_image_paths]
    assert not missing, f"missing from the image: {missing}"


@pytest.mark.container
def forbidden_paths(built_image_paths: set[str], harness_config: HarnessConfig) -> None:
    """No path matches a forbidden glob (what .dockerignore and the Dockerfile must keep out)."""
    found = matching(built_image_paths, harness_config.expect.absent_globs)
    assert not found, f"{len(found)} forbidden paths in the image, e.g. {sorted(found)[:10]}"


@pytest.mark.container
def wasted_bytes(
    harness_session: EngineSession, built_image: ImageFacts, harness_results: Results
) -> None:
    """Bytes that later layers overwrite or delete (dive's "wasted space"), with the biggest offenders."""
    waste = layer_waste.wasted_bytes(layer_waste.layer_maps(harness_session.client, built_image.id))
    harness_results.record("image.wasted_bytes", waste.total_bytes, unit="bytes")
    harness_results.record(
        "image.wasted_files",
        [{"path": path, "bytes": size} for path, size in waste.files[:_WASTED_FILES_REPORTED]],
    )
    problem = judgements.waste_beyond_layers(waste.total_bytes, [layer.size_bytes for layer in built_image.layers])
    assert problem is None, problem


@pytest.mark.container
def startup(
    start_container: StartContainer, harness_config: HarnessConfig, harness_results: Results
) -> None:
    """Seconds from start to the first healthy HTTP answer, over `start_repeats` fresh containers."""
    ready: list[float] = []
    for _ in range(harness_config.start_repeats):
        running = start_container()
        assert running.ready_s is not None
        ready.append(round(running.ready_s, 4))
        running.remove()
    harness_results.record("startup.ready_s", ready, unit="s")
    harness_results.record("startup.ready_median_s", round(median(ready), 4), unit="s")
    harness_results.record(
        "startup.ready_spread_s", {key: round(value, 4) for key, value in spread(ready).to_report().items()}
    )


@pytest.mark.container
def docker_health(
    start_container: StartContainer,
    built_image: ImageFacts,
    harness_config: HarnessConfig,
    harness_results: Results,
) -> None:
    """The image's HEALTHCHECK reports `healthy`, probed at its own interval unless run.health_interval_s says.

    An image without one fails when policy.healthcheck is on, else the check is skipped as not measured.
    """
    missing = judgements.lacks_healthcheck(built_image.tag, built_image.healthcheck)
    if missing is not None:
        if harness_config.policy.healthcheck:
            pytest.fail(judgements.enforced(missing, "healthcheck"), pytrace=False)
        harness_results.note(judgements.not_enforced(missing, "healthcheck"))
        pytest.skip(f"startup.healthy_s not measured: {judgements.not_enforced(missing, 'healthcheck')}")
    interval = harness_config.run.health_interval_s
    running = start_container(health_interval_s=interval)
    healthy_s = running.wait_health("healthy", timeout_s=harness_config.run.health_timeout_s)
    harness_results.record("startup.healthy_s", round(healthy_s, 4), unit="s")
    image_interval = (built_image.healthcheck or {}).get("interval_s") or _DOCKER_HEALTH_INTERVAL_S
    harness_results.record("startup.image_health_interval_s", image_interval, unit="s")
    harness_results.record(
        "startup.health_interval_s", image_interval if interval is None else interval, unit="s"
    )
    if interval is not None and interval != image_interval:
        harness_results.note(
            f"startup.healthy_s was probed every {interval:g} s (run.health_interval_s), "
            f"not at the image's own HEALTHCHECK interval of {image_interval} s"
        )


@pytest.mark.container
def unhealthy_config(
    start_container: StartContainer, harness_config: HarnessConfig, harness_results: Results
) -> None:
    """Under the configured broken settings the HEALTHCHECK must end `unhealthy` (it detects the fault)."""
    broken = harness_config.unhealthy
    if broken is None:
        pytest.fail("configure [unhealthy] (env and/or command under which the container must end unhealthy)")
    overrides: dict[str, Any] = {"env": broken.env, "health_interval_s": harness_config.run.health_interval_s}
    if broken.command is not None:
        overrides["command"] = broken.command
    running = start_container(wait_ready=False, **overrides)
    unhealthy_s = running.wait_health("unhealthy", timeout_s=harness_config.run.health_timeout_s)
    harness_results.record("startup.unhealthy_s", round(unhealthy_s, 4), unit="s")


@pytest.mark.container
def volume_override(
    start_container: StartContainer,
    harness_config: HarnessConfig,
    harness_results: Results,
    harness_session: EngineSession,
    built_image: ImageFacts,
) -> None:
    """With the host directory mounted the service answers from it; without it, from its default.

    Where the engine cannot see the caller's folder (a remote engine, the harness in a container sharing the
    engine's socket), a copy of it in a labelled volume is mounted instead (`volume.mount`).
    """
    volume = harness_config.volume
    if volume is None:
        pytest.fail("configure [volume] (host, target, check_path, expect_json) to check a volume override")
    host = harness_config.path(volume.host)
    assert host.is_dir(), f"volume.host {host} is not a directory"
    mount, how = folder_mount(
        harness_session, built_image.id, host, volume.target, read_only=volume.read_only, kind=volume.mount
    )
    harness_results.record("volume.mounted_from", how)
    mounted = start_container(volumes=mount)
    with_volume = _get_json(mounted.url(volume.check_path))
    harness_results.record("volume.target", volume.target)
    harness_results.record("volume.mounted_answer", _picked(with_volume, volume.expect_json))
    assert _contains(with_volume, volume.expect_json), (
        f"with {host} mounted at {volume.target}, GET {volume.check_path} answered {with_volume}; "
        f"expected it to contain {volume.expect_json}"
    )
    if volume.default_json is not None:
        default = _get_json(start_container().url(volume.check_path))
        harness_results.record("volume.default_answer", _picked(default, volume.default_json))
        assert _contains(default, volume.default_json), (
            f"without the volume, GET {volume.check_path} answered {default}; expected {volume.default_json}"
        )


@pytest.mark.container
def idle_usage(start_container: StartContainer, harness_config: HarnessConfig, harness_results: Results) -> None:
    """Median memory (as `docker stats` computes it) and CPU % of a fresh container nobody talks to.

    Sampling starts idle_settle_s after the container's first 2xx and lasts idle_seconds, so the figure
    does not depend on what other tests did with a shared container.
    """
    running = start_container()
    assert running.ready_s is not None
    time.sleep(max(0.0, running.started + running.ready_s + harness_config.idle_settle_s - time.monotonic()))
    stats = idle_stats(running.container, seconds=harness_config.idle_seconds)
    assert stats.samples, f"no stats samples in {harness_config.idle_seconds} s from {running.container.name}"
    harness_results.record("memory.idle_started_after_ready_s", harness_config.idle_settle_s, unit="s")
    harness_results.record("memory.idle_bytes", stats.memory_bytes, unit="bytes")
    harness_results.record("cpu.idle_percent", round(stats.cpu_percent, 3), unit="%")
    harness_results.record("memory.idle_samples", len(stats.samples))
    problem = judgements.no_memory_reported(stats.memory_bytes, running.container.name)
    assert problem is None, problem


@pytest.mark.container
def budgets(harness_budget: Budget, harness_results: Results) -> None:
    """One budget from the budgets file against the figures measured before it (budgets run last)."""
    outcome = evaluate(harness_budget, harness_results.figures())
    harness_results.add_budget(outcome)
    if not outcome.ok:
        pytest.fail(outcome.message, pytrace=False)


def _cached(run: BuildRun) -> list[BuildStep]:
    """Steps the cache served (steps that make no layer left out)."""
    return [step for step in run.log.steps if step.cached and step.keyword not in _NO_CACHE_STEPS]


def _rebuilt(run: BuildRun) -> list[BuildStep]:
    """Steps that ran instead of coming from the cache (steps that make no layer left out)."""
    return [step for step in run.log.steps if not step.cached and step.keyword not in _NO_CACHE_STEPS]


def _describe(steps: list[BuildStep]) -> str:
    return "; ".join(f"step {step.number} `{step.instruction[:80]}`" for step in steps)


def _healthcheck_problems(seen: Mapping[str, Any] | None, expected: Mapping[str, Any]) -> list[str]:
    if not seen:
        return [f"the image declares no HEALTHCHECK; expected {dict(expected)}"]
    return [
        f"HEALTHCHECK {key} is {seen.get(key)}, expected {value}"
        for key, value in expected.items()
        if seen.get(key) != value
    ]


def _get_json(url: str) -> Any:
    """GET a URL and decode its JSON body; a non-2xx answer fails with what the service said."""
    answer = requests.get(url, timeout=10)
    assert answer.ok, f"GET {url} answered {answer.status_code}: {answer.text[:300]}"
    return answer.json()


def _picked(answer: Any, keys: Mapping[str, Any]) -> Any:
    """The part of a JSON answer the check looks at (the whole answer when it is not an object)."""
    return {key: answer.get(key) for key in keys} if isinstance(answer, dict) else answer


def _contains(answer: Any, expected: Mapping[str, Any]) -> bool:
    """Whether a JSON object has every expected key with the expected value (other keys may differ)."""
    return isinstance(answer, dict) and all(answer.get(key) == value for key, value in expected.items())
