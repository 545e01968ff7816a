"""The fixtures the built-in checks and users' own tests use: configuration, figures, engine, image, containers.

Registered by `plugin.py` with the `HarnessSession`; each session fixture builds or starts at most once per run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from container_harness.build.timer import BuildTimings, time_builds
from container_harness.config import HarnessConfig, image_spec, run_spec
from container_harness.engine import connect, engine_facts
from container_harness.errors import EngineUnavailableError
from container_harness.image.inspect import ImageFacts, image_paths, inspect_image
from container_harness.ownership import EngineSession, new_session, sweep_note
from container_harness.pytest_plugin import github_summary
from container_harness.pytest_plugin.session import HarnessSession
from container_harness.report.results import Results
from container_harness.run.container import RunningContainer
from container_harness.run.container import start_container as start_engine_container
from container_harness.run.reach import plan_reach

SESSION_PLUGIN = github_summary.SESSION_PLUGIN


def harness_of(config: pytest.Config) -> HarnessSession:
    """The run's HarnessSession (registered by the plugin in pytest_configure)."""
    harness = config.pluginmanager.get_plugin(SESSION_PLUGIN)
    assert isinstance(harness, HarnessSession), "the container_harness plugin is not configured"
    return harness


@pytest.fixture(scope="session")
def harness_config(pytestconfig: pytest.Config) -> HarnessConfig:
    """The harness configuration ([tool.harness], --harness-config, ini and command-line overrides)."""
    return harness_of(pytestconfig).config()


@pytest.fixture(scope="session")
def harness_results(pytestconfig: pytest.Config, record_testsuite_property: Callable[[str, object], None]) -> Results:
    """Recorder for figures: `.record("startup.ready_median_s", 0.8, unit="s")` lands in report.json."""
    harness = harness_of(pytestconfig)
    harness.run_report.suite_property = record_testsuite_property
    return harness.run_report.results


@pytest.fixture(scope="session")
def harness_session(
    request: pytest.FixtureRequest, harness_config: HarnessConfig, harness_results: Results
) -> Iterator[EngineSession]:
    """The engine connection and the run's label; everything labelled with it is removed at the end."""
    harness = harness_of(request.config)
    unreachable: str | None
    try:
        client = connect()
    except EngineUnavailableError as exc:
        unreachable = str(exc)
    else:
        unreachable = None
    if unreachable is not None:
        # One clear error (raised outside `except`, so no exception chain is printed), then stop: every
        # other container test would only repeat it.
        request.session.shouldfail = "the Docker engine is unreachable (see the first error)"
        pytest.fail(unreachable, pytrace=False)
    engine = new_session(client, keep=harness_config.keep, prune_build_cache=harness_config.prune_build_cache)
    harness.start_engine(engine)
    if (swept := sweep_note(engine.swept)) is not None:
        harness_results.note(swept)
    harness_results.record("environment.engine", engine_facts(client))
    harness_results.record("environment.session_id", engine.id)
    harness_results.record(
        "environment.reach", plan_reach(harness_config.run.host, harness_config.run.bind).to_report()
    )
    yield engine
    harness.end_engine()


@pytest.fixture(scope="session")
def build_timings(
    harness_session: EngineSession, harness_config: HarnessConfig, harness_results: Results
) -> BuildTimings:
    """Full, cached, code- and dependency-change builds of the configured image, timed; figures under build.*.

    A context holding folders that look like mistakes (a venv, .git, caches) is named in a note.
    """
    spec = image_spec(harness_config)
    timings = time_builds(harness_session, spec, repeats=harness_config.build_repeats)
    for name, value in timings.to_report().items():
        unit = "s" if name.endswith("_s") else "bytes" if name.endswith("_bytes") else None
        harness_results.record(f"build.{name}", value, unit=unit)
    warning = timings.context.warning(spec.context) if timings.context else None
    if warning is not None:
        harness_results.note(warning)
    return timings


@pytest.fixture(scope="session")
def built_image(
    harness_session: EngineSession,
    harness_config: HarnessConfig,
    harness_results: Results,
    build_timings: BuildTimings,
) -> ImageFacts:
    """The built image's facts (size, base, layers, config); figures under image.*."""
    # By id: another build may move the tag meanwhile; the report still names the configured tag.
    image_id = (build_timings.cached or build_timings.full)[-1].image_id
    facts = replace(inspect_image(harness_session.client, image_id, build_timings.base_image), tag=harness_config.tag)
    for name, value in facts.to_report().items():
        harness_results.record(f"image.{name}", value, unit="bytes" if name.endswith("bytes") else None)
    return facts


@pytest.fixture(scope="session")
def built_image_paths(harness_session: EngineSession, built_image: ImageFacts) -> set[str]:
    """Every path in the built image's final filesystem."""
    return image_paths(harness_session.client, built_image.id, labels=harness_session.labels())


@pytest.fixture
def start_container(
    harness_session: EngineSession, harness_config: HarnessConfig, built_image: ImageFacts
) -> Iterator[Callable[..., RunningContainer]]:
    """Factory: `start_container(env={...}, wait_ready=False, ...)` starts the built image; RunSpec overrides.

    Containers it started are removed when the test ends.
    """
    started: list[RunningContainer] = []

    def start(*, wait_ready: bool = True, image: str | None = None, **overrides: Any) -> RunningContainer:
        running = start_engine_container(
            harness_session,
            image or built_image.id,
            run_spec(harness_config, **overrides),
            wait_ready=wait_ready,
            name=harness_config.tag if image is None else image,
        )
        started.append(running)
        return running

    yield start
    for running in started:
        running.remove()


@pytest.fixture(scope="session")
def running_container(
    harness_session: EngineSession, harness_config: HarnessConfig, built_image: ImageFacts
) -> Iterator[RunningContainer]:
    """One container of the built image with the configured run settings, shared by the session's checks."""
    running = start_engine_container(harness_session, built_image.id, run_spec(harness_config), name=harness_config.tag)
    yield running
    running.remove()
