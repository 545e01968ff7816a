"""The built-in checks' test functions; `catalogue.py` says when each runs and the plugin collects them.

Each check measures through the plugin's fixtures and jobs (container_harness.jobs.plugin_*), which record its
figures (they reach report.json), and asserts what the configuration expects. Budgets are one test each and run
after every other test of the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest

from container_harness.config import HarnessConfig
from container_harness.jobs import plugin_containers, plugin_image
from container_harness.jobs.plugin_containers import StartContainer
from container_harness.jobs.plugin_report import judge_budget
from container_harness.pytest_plugin import judgements

if TYPE_CHECKING:
    from container_harness.build.log import BuildStep
    from container_harness.build.timer import BuildTimings
    from container_harness.gate.budgets import Budget
    from container_harness.image.inspect import ImageFacts
    from container_harness.ownership import EngineSession
    from container_harness.report.results import Results


@pytest.mark.container
def full_build(build_timings: BuildTimings) -> None:
    """A build without cache completes and really ran every step."""
    for run in build_timings.full:
        assert run.log.steps, f"the full build of {run.image_id} reported no steps"
        served = run.log.layer_steps(cached=True)
        assert not served, f"a --no-cache build took steps from the cache: {_describe(served)}"


@pytest.mark.container
def cached_rebuild(build_timings: BuildTimings) -> None:
    """Rebuilding with nothing changed serves every step from the cache and is faster than the full build."""
    for run in build_timings.cached:
        missed = run.log.layer_steps(cached=False)
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
        rebuilt = run.log.layer_steps(cached=False)
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
        executed = [step for full in build_timings.full[:1] for step in full.log.layer_steps(cached=False)]
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
        rebuilt = run.log.layer_steps(cached=False)
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
        seen = plugin_containers.user_id(request.getfixturevalue("running_container"))
        if seen != str(expect.uid):
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
    found = plugin_image.forbidden_found(built_image_paths, harness_config)
    assert not found, f"{len(found)} forbidden paths in the image, e.g. {sorted(found)[:10]}"


@pytest.mark.container
def wasted_bytes(
    harness_session: EngineSession, built_image: ImageFacts, harness_results: Results
) -> None:
    """Bytes that later layers overwrite or delete (dive's "wasted space"), with the biggest offenders."""
    waste = plugin_image.wasted_bytes(harness_session, built_image, harness_results)
    problem = judgements.waste_beyond_layers(waste, [layer.size_bytes for layer in built_image.layers])
    assert problem is None, problem


@pytest.mark.container
def startup(
    start_container: StartContainer, harness_config: HarnessConfig, harness_results: Results
) -> None:
    """Seconds from start to the first healthy HTTP answer, over `start_repeats` fresh containers."""
    plugin_containers.time_startups(start_container, harness_config, harness_results)


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
    plugin_containers.time_healthy(start_container, built_image, harness_config, harness_results)


@pytest.mark.container
def unhealthy_config(
    start_container: StartContainer, harness_config: HarnessConfig, harness_results: Results
) -> None:
    """Under the configured broken settings the HEALTHCHECK must end `unhealthy` (it detects the fault)."""
    broken = harness_config.unhealthy
    if broken is None:
        pytest.fail("configure [unhealthy] (env and/or command under which the container must end unhealthy)")
    plugin_containers.time_unhealthy(start_container, harness_config, broken, harness_results)


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
    problems = plugin_containers.volume_problems(
        harness_session, start_container, built_image.id, harness_config, volume, harness_results
    )
    assert not problems, "\n".join(problems)


@pytest.mark.container
def idle_usage(start_container: StartContainer, harness_config: HarnessConfig, harness_results: Results) -> None:
    """Median memory (as `docker stats` computes it) and CPU % of a fresh container nobody talks to.

    Sampling starts idle_settle_s after the container's first 2xx and lasts idle_seconds, so the figure
    does not depend on what other tests did with a shared container.
    """
    running = start_container()
    stats = plugin_containers.idle_usage(running, harness_config, harness_results)
    assert stats.samples, f"no stats samples in {harness_config.idle_seconds} s from {running.container.name}"
    problem = judgements.no_memory_reported(stats.memory_bytes, running.container.name)
    assert problem is None, problem


@pytest.mark.container
def budgets(harness_budget: Budget, harness_results: Results) -> None:
    """One budget from the budgets file against the figures measured before it (budgets run last)."""
    outcome = judge_budget(harness_budget, harness_results)
    if not outcome.ok:
        pytest.fail(outcome.message, pytrace=False)


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
