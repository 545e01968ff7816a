"""pytest glue: options, the `container` marker, fixtures, clean-up, budgets ordering and the report hooks.

Loaded through the `pytest11` entry point "harness". The logic lives in the modules it calls; this module
only wires them to pytest's life cycle.
"""

from __future__ import annotations

import os

# Before anything imports testcontainers: its Ryuk reaper container would outlive our own clean-up rules.
os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"

import io
import json
import platform
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from rich.console import Console

from container_harness.build.timer import BuildTimings, time_builds
from container_harness.config import HarnessConfig, image_spec, load_config, run_spec
from container_harness.engine import connect, engine_facts
from container_harness.errors import EngineUnavailableError, HarnessError
from container_harness.gate.budgets import Budget, load_budgets
from container_harness.image.inspect import ImageFacts, image_paths, inspect_image
from container_harness.ownership import Session, new_session
from container_harness.report import render as report_view
from container_harness.report.results import Results
from container_harness.run.container import RunningContainer
from container_harness.run.container import start_container as start_engine_container

MARKER = "container"
LOAD_MARKER = "harness_load"
_ENVIRONMENT = "environment"  # report group of facts about the run, not of the image


@dataclass
class _State:
    """What one pytest run shares between hooks and fixtures."""

    pytest_config: pytest.Config
    results: Results = field(default_factory=Results)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.monotonic)
    harness_config: HarnessConfig | None = None
    session: Session | None = None
    previous_sigterm: Any = None
    suite_property: Callable[[str, object], None] | None = None  # pytest's record_testsuite_property

    def config(self) -> HarnessConfig:
        """The harness configuration, read on first use (runs without container tests never read it)."""
        if self.harness_config is None:
            self.harness_config = load_config(
                Path(self.pytest_config.rootpath),
                _config_file(self.pytest_config),
                _overrides(self.pytest_config),
            )
        return self.harness_config


_STATE = pytest.StashKey[_State]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Command-line options; the main ones can also be ini options ([tool.pytest.ini_options])."""
    group = parser.getgroup("harness", "container image harness")
    group.addoption(
        "--harness-config", metavar="FILE", help="TOML with the harness keys (top level or [tool.harness])"
    )
    group.addoption("--harness-tag", help="tag of the image to build and check")
    group.addoption(
        "--harness-keep",
        action="store_true",
        default=None,
        help="keep every container, image and volume the run made (for debugging)",
    )
    group.addoption("--harness-report", metavar="PATH", help="where report.json goes (report.md beside it)")
    group.addoption("--harness-budgets", metavar="FILE", help="budgets TOML ([[budget]] name, max|min, unit)")
    group.addoption("--harness-build-repeats", type=int, help="builds of each kind; medians are reported")
    group.addoption("--harness-start-repeats", type=int, help="container starts timed by the start-up check")
    group.addoption(
        "--harness-load",
        dest="harness_load",
        action="store_true",
        default=None,
        help="run the load checks (default: load.enabled of the configuration)",
    )
    group.addoption(
        "--no-harness-load", dest="harness_load", action="store_false", help="deselect the load checks"
    )
    parser.addini("harness_config", "TOML with the harness keys (default: [tool.harness] of pyproject.toml)")
    parser.addini("harness_report", "where report.json goes")
    parser.addini("harness_budgets", "budgets TOML")
    parser.addini("harness_build_repeats", "builds of each kind")
    parser.addini("harness_start_repeats", "container starts timed by the start-up check")
    parser.addini("harness_keep", "keep what the run made", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, create the run's state and turn SIGTERM into Ctrl-C so clean-up runs."""
    config.addinivalue_line("markers", f"{MARKER}: builds or runs container images (needs a Docker engine)")
    config.addinivalue_line("markers", f"{LOAD_MARKER}: load check, deselected when load is disabled")
    state = _State(pytest_config=config)
    config.stash[_STATE] = state
    if threading.current_thread() is threading.main_thread():
        state.previous_sigterm = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Last-chance clean-up and the original SIGTERM handler back."""
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    _cleanup(state)
    if state.previous_sigterm is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, state.previous_sigterm)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per budget: the `harness_budget` argument is parametrized from the budgets file."""
    if "harness_budget" not in metafunc.fixturenames:
        return
    budgets = _budgets(metafunc.config)
    if budgets:
        metafunc.parametrize("harness_budget", budgets, ids=[budget.name for budget in budgets])


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Budgets run last (after every check that measures), and load checks go when load is disabled."""
    dropped = [
        item
        for item in items
        if _is_unparametrized_budget(item) or (_is_load_check(item) and not _load_on(config))
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    kept = [item for item in items if item not in dropped]
    items[:] = [item for item in kept if not _is_budget(item)] + [item for item in kept if _is_budget(item)]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Harness errors show as their one clear message (no traceback); new figures become JUnit properties."""
    state = item.config.stash[_STATE]
    item.user_properties.extend((name, _property_value(value)) for name, value in state.results.drain())
    report: pytest.TestReport = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, HarnessError):
        report.longrepr = f"{type(call.excinfo.value).__name__}: {call.excinfo.value}"
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write report.json and report.md (and the CI job summary) when the run measured anything.

    tryfirst: before junitxml writes its file, so the suite-level properties get into it. Clean-up is the
    session fixture's finalizer (with pytest_unconfigure as the last chance).
    """
    state = session.config.stash[_STATE]
    rendered = _report(state)
    if rendered is not None:
        _write_reports(state, rendered)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The figures and budgets as a table at the end of the run."""
    state = config.stash[_STATE]
    rendered = _report(state)
    if rendered is None:
        return
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=terminalreporter._tw.fullwidth, force_terminal=terminalreporter.hasmarkup
    )
    for table in report_view.render_rich_table(rendered):
        console.print(table)
    terminalreporter.write_sep("=", "container harness")
    terminalreporter.write(buffer.getvalue())
    if state.harness_config is not None:
        terminalreporter.write_line(f"report: {state.harness_config.report_path}")


@pytest.fixture(scope="session")
def harness_config(pytestconfig: pytest.Config) -> HarnessConfig:
    """The harness configuration ([tool.harness], --harness-config, ini and command-line overrides)."""
    return pytestconfig.stash[_STATE].config()


@pytest.fixture(scope="session")
def harness_results(
    pytestconfig: pytest.Config, record_testsuite_property: Callable[[str, object], None]
) -> Results:
    """Recorder for figures: `.record("startup.ready_median_s", 0.8, unit="s")` lands in report.json."""
    state = pytestconfig.stash[_STATE]
    state.suite_property = record_testsuite_property
    return state.results


@pytest.fixture(scope="session")
def harness_session(
    request: pytest.FixtureRequest, harness_config: HarnessConfig, harness_results: Results
) -> Iterator[Session]:
    """The engine connection and the run's label; everything labelled with it is removed at the end."""
    state = request.config.stash[_STATE]
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
    state.session = new_session(
        client, keep=harness_config.keep, prune_build_cache=harness_config.prune_build_cache
    )
    harness_results.record(f"{_ENVIRONMENT}.engine", engine_facts(client))
    harness_results.record(f"{_ENVIRONMENT}.session_id", state.session.id)
    yield state.session
    _cleanup(state)


@pytest.fixture(scope="session")
def build_timings(
    harness_session: Session, harness_config: HarnessConfig, harness_results: Results
) -> BuildTimings:
    """Full, cached and code-change builds of the configured image, timed; figures under build.*."""
    timings = time_builds(harness_session, image_spec(harness_config), repeats=harness_config.build_repeats)
    for name, value in timings.to_report().items():
        harness_results.record(f"build.{name}", value, unit="s" if name.endswith("_s") else None)
    return timings


@pytest.fixture(scope="session")
def built_image(
    harness_session: Session,
    harness_config: HarnessConfig,
    harness_results: Results,
    build_timings: BuildTimings,
) -> ImageFacts:
    """The built image's facts (size, base, layers, config); figures under image.*."""
    # By id: another build may move the tag meanwhile; the report still names the configured tag.
    image_id = (build_timings.cached or build_timings.full)[-1].image_id
    facts = replace(
        inspect_image(harness_session.client, image_id, build_timings.base_image), tag=harness_config.tag
    )
    for name, value in facts.to_report().items():
        harness_results.record(f"image.{name}", value, unit="bytes" if name.endswith("bytes") else None)
    return facts


@pytest.fixture(scope="session")
def built_image_paths(harness_session: Session, built_image: ImageFacts) -> set[str]:
    """Every path in the built image's final filesystem."""
    return image_paths(harness_session.client, built_image.id, labels=harness_session.labels())


@pytest.fixture
def start_container(
    harness_session: Session, harness_config: HarnessConfig, built_image: ImageFacts
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
        )
        started.append(running)
        return running

    yield start
    for running in started:
        running.remove()


@pytest.fixture(scope="session")
def running_container(
    harness_session: Session, harness_config: HarnessConfig, built_image: ImageFacts
) -> Iterator[RunningContainer]:
    """One container of the built image with the configured run settings, shared by the session's checks."""
    running = start_engine_container(harness_session, built_image.id, run_spec(harness_config))
    yield running
    running.remove()


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM handled like Ctrl-C, so fixtures tear down and the session's objects are removed."""
    raise KeyboardInterrupt(f"signal {signum}")


def _config_file(config: pytest.Config) -> Path | None:
    """--harness-config, else the harness_config ini option (relative to the rootdir)."""
    value = config.getoption("--harness-config") or config.getini("harness_config")
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else Path(config.rootpath) / path


def _overrides(config: pytest.Config) -> dict[str, Any]:
    """Dotted configuration keys set by command-line options, falling back to ini options."""

    def pick(option: str, ini: str | None = None, convert: Callable[[str], Any] = str) -> Any:
        value = config.getoption(option)
        if value is None and ini is not None and config.getini(ini) not in ("", None):
            value = convert(config.getini(ini))
        return value

    keep = config.getoption("--harness-keep") or config.getini("harness_keep") or None
    return {
        "tag": pick("--harness-tag"),
        "keep": keep,
        "report": _absolute(config, pick("--harness-report", "harness_report")),
        "budgets": _absolute(config, pick("--harness-budgets", "harness_budgets")),
        "build_repeats": pick("--harness-build-repeats", "harness_build_repeats", int),
        "start_repeats": pick("--harness-start-repeats", "harness_start_repeats", int),
        "load.enabled": config.getoption("harness_load"),
    }


def _absolute(config: pytest.Config, value: str | None) -> str | None:
    """Paths given on the command line or in ini are relative to the rootdir, not to the config file."""
    if value is None:
        return None
    path = Path(value)
    return str(path if path.is_absolute() else Path(config.rootpath) / path)


def _budgets(config: pytest.Config) -> list[Budget]:
    """The configured budgets (none without a budgets file); configuration errors stop the run clearly."""
    try:
        path = config.stash[_STATE].config().budgets_path
        return load_budgets(path) if path is not None else []
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from exc


def _is_budget(item: pytest.Item) -> bool:
    return "harness_budget" in getattr(item, "fixturenames", ())


def _is_unparametrized_budget(item: pytest.Item) -> bool:
    """The budget check when there are no budgets (deselected rather than skipped)."""
    return _is_budget(item) and getattr(item, "callspec", None) is None


def _is_load_check(item: pytest.Item) -> bool:
    return item.get_closest_marker(LOAD_MARKER) is not None


def _load_on(config: pytest.Config) -> bool:
    """Whether load checks run: the option when given, else load.enabled (True when no configuration)."""
    option = config.getoption("harness_load")
    if option is not None:
        return bool(option)
    state = config.stash[_STATE]
    try:
        return state.config().load.enabled
    except HarnessError:
        return True


def _report(state: _State) -> dict[str, Any] | None:
    """The report of what the run measured, or None when it measured nothing (e.g. only unit tests ran).

    The engine facts every container test records are not a measurement: a run of container tests that use
    no harness check must not overwrite the report of a run that did.
    """
    figures = state.results.figures()
    if not any(group != _ENVIRONMENT for group in figures) and not state.results.budgets:
        return None
    environment = {
        "harness": {
            "started_at": state.started_at.isoformat(timespec="seconds"),
            "wall_s": round(time.monotonic() - state.started, 3),
            "python": platform.python_version(),
            "pytest": pytest.__version__,
            "platform": platform.platform(),
        }
    }
    return report_view.build_report(figures, state.results.units(), state.results.budgets, environment)


def _write_reports(state: _State, rendered: dict[str, Any]) -> None:
    """report.json, report.md, $GITHUB_STEP_SUMMARY and suite-level JUnit properties."""
    config = state.config()
    report_view.write_json(rendered, config.report_path)
    markdown = report_view.render_markdown(rendered)
    config.markdown_path.parent.mkdir(parents=True, exist_ok=True)
    config.markdown_path.write_text(markdown)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(markdown)
    if state.suite_property is not None:
        for name, value in report_view.junit_properties(rendered):
            state.suite_property(name, value)


def _property_value(value: Any) -> str:
    """A figure as a JUnit property value: scalars as they are, structures as JSON."""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _cleanup(state: _State) -> None:
    """Remove everything labelled with the run (the kept image excepted); safe to call more than once."""
    session = state.session
    if session is None:
        return
    keep_images = (
        [state.harness_config.tag] if state.harness_config and state.harness_config.keep_image else []
    )
    session.cleanup(keep_images=keep_images)
