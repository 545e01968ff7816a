"""The fixtures the built-in checks and users' own tests use: configuration, figures, engine, image, containers.

Registered by `plugin.py` with the `HarnessSession`; each session fixture builds or starts at most once per run,
through the plugin's jobs (container_harness.jobs.plugin_*), and turns an unreachable engine into one failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from container_harness.config import HarnessConfig
from container_harness.errors import EngineUnavailableError
from container_harness.jobs import plugin_image
from container_harness.jobs.plugin_containers import start_configured
from container_harness.pytest_plugin import github_summary
from container_harness.pytest_plugin.session import HarnessSession

if TYPE_CHECKING:
    from container_harness.build.timer import BuildTimings
    from container_harness.image.inspect import ImageFacts
    from container_harness.ownership import EngineSession
    from container_harness.report.results import Results
    from container_harness.run.container import RunningContainer

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
    lifetime = harness_of(request.config).engine
    unreachable: str | None
    try:
        engine = lifetime.open(harness_config, harness_results)
    except EngineUnavailableError as exc:
        unreachable = str(exc)
    else:
        unreachable = None
    if unreachable is not None:
        # One clear error (raised outside `except`, so no exception chain is printed), then stop: every
        # other container test would only repeat it.
        request.session.shouldfail = "the Docker engine is unreachable (see the first error)"
        pytest.fail(unreachable, pytrace=False)
    yield engine
    lifetime.end()


@pytest.fixture(scope="session")
def build_timings(
    harness_session: EngineSession, harness_config: HarnessConfig, harness_results: Results
) -> BuildTimings:
    """Full, cached, code- and dependency-change builds of the configured image, timed; figures under build.*."""
    return plugin_image.timed_builds(harness_session, harness_config, harness_results)


@pytest.fixture(scope="session")
def built_image(
    harness_session: EngineSession,
    harness_config: HarnessConfig,
    harness_results: Results,
    build_timings: BuildTimings,
) -> ImageFacts:
    """The built image's facts (size, base, layers, config); figures under image.*."""
    return plugin_image.built_image(harness_session, harness_config, build_timings, harness_results)


@pytest.fixture(scope="session")
def built_image_paths(harness_session: EngineSession, built_image: ImageFacts) -> set[str]:
    """Every path in the built image's final filesystem."""
    return plugin_image.built_image_paths(harness_session, built_image)


@pytest.fixture
def start_container(
    harness_session: EngineSession, harness_config: HarnessConfig, built_image: ImageFacts
) -> Iterator[Callable[..., RunningContainer]]:
    """Factory: `start_container(env={...}, wait_ready=False, ...)` starts the built image; RunSpec overrides.

    Containers it started are removed when the test ends.
    """
    started: list[RunningContainer] = []

    def start(**options: Any) -> RunningContainer:
        running = start_configured(harness_session, harness_config, built_image.id, **options)
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
    running = start_configured(harness_session, harness_config, built_image.id)
    yield running
    running.remove()
