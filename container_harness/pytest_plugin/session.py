"""`HarnessSession`: the one object that holds a pytest run's harness state and implements its hooks.

`plugin.py` registers it in `pytest_configure`. It changes nothing in a run until a test asks for the engine
(the `harness_session` fixture): only then are the SIGTERM handler and testcontainers' Ryuk switch set, and
both are restored when the engine session ends.
"""

from __future__ import annotations

import io
import json
import logging
import platform
import time
import warnings
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from testcontainers.core.config import testcontainers_config

from container_harness.config import HarnessConfig, load_config
from container_harness.errors import ConfigNotFoundError, ContainerExitedError, HarnessError
from container_harness.figures import lookup
from container_harness.gate.budgets import Budget, load_budgets
from container_harness.interrupts import sigterm_as_interrupt
from container_harness.measure.contention import ContentionSampler, Window, window
from container_harness.ownership import LABEL, EngineSession
from container_harness.pytest_plugin import catalogue
from container_harness.pytest_plugin.activation import (
    config_file,
    has_configuration,
    requires_container_marker,
    xdist_distributes,
    xdist_worker,
)
from container_harness.pytest_plugin.catalogue import Check
from container_harness.pytest_plugin.collect import HarnessChecks, check_of
from container_harness.pytest_plugin.notes import HarnessNote
from container_harness.report import render
from container_harness.report.commit import commit_sha
from container_harness.report.results import Results

_log = logging.getLogger(__name__)
BUDGET_FIXTURE = "harness_budget"
_ENVIRONMENT = "environment"  # report group of facts about the run, not of the image
_LATE = ("load", "budgets")  # stages of built-in checks that run after users' own tests
ENGINE_FIXTURE = "harness_session"
XDIST_OFF = (
    "the harness is off under pytest-xdist: its built-in checks are not collected, tests that use the engine "
    f"({ENGINE_FIXTURE}) are skipped and no report is written, because every worker would build, run and measure "
    "the image on its own, on CPUs the other workers load; run the container tests in one process: -n 0"
)


class HarnessSession:
    """A pytest run's harness: configuration, recorded figures, the engine session, and the report."""

    def __init__(self, config: pytest.Config) -> None:
        self.pytest_config = config
        self.results = Results(on_record=self._announce_figure, on_note=_warn)
        self.started_at = datetime.now(UTC)
        self.started = time.monotonic()
        self.engine: EngineSession | None = None
        self.selection: list[Check] = []
        self.failed: dict[str, str] = {}  # check name -> the failed check behind it and why
        self.report: dict[str, Any] | None = None
        self.suite_property: Callable[[str, object], None] | None = None  # record_testsuite_property
        self.contended: dict[str, Window] = {}  # check name -> what other containers used while it measured
        self._contention: ContentionSampler | None = None
        self._engine_cpus = 1
        self._harness_config: HarnessConfig | None = None
        self._lifetime = ExitStack()  # what the engine session changed in the process, undone by end_engine
        self.distributed = xdist_distributes(config)  # then off, as pytest-benchmark is: see XDIST_OFF
        if self.distributed and not xdist_worker(config):
            config.issue_config_time_warning(HarnessNote(XDIST_OFF), stacklevel=2)

    # -- configuration -------------------------------------------------------------------------------

    def config(self) -> HarnessConfig:
        """The harness configuration, read on first use (runs without container tests never read it)."""
        if self._harness_config is None:
            try:
                self._harness_config = load_config(
                    Path(self.pytest_config.rootpath), config_file(self.pytest_config), _overrides(self.pytest_config)
                )
            except ConfigNotFoundError as exc:
                raise exc.for_option("--harness-config") from exc
        return self._harness_config

    def budgets(self) -> list[Budget]:
        """The configured budgets (none without a budgets file); configuration errors stop the run clearly."""
        try:
            path = self.config().budgets_path
            return load_budgets(path) if path is not None else []
        except HarnessError as exc:
            raise pytest.UsageError(str(exc)) from exc

    # -- the engine session: the only time the run's process is changed ------------------------------

    def start_engine(self, engine: EngineSession) -> None:
        """Hold the run's engine session; from now on SIGTERM tears down like Ctrl-C and Ryuk stays off."""
        self.engine = engine
        self._lifetime.enter_context(ryuk_disabled())
        self._lifetime.enter_context(sigterm_as_interrupt())
        self._engine_cpus = int(engine.client.info().get("NCPU") or 1)
        sampler = self._contention = ContentionSampler(engine.client, (LABEL, engine.id)).start()
        self._lifetime.callback(sampler.stop)

    def end_engine(self) -> None:
        """Remove everything labelled with the run (the kept image excepted); idempotent."""
        engine, self.engine = self.engine, None
        try:
            if engine is not None:
                config = self._harness_config
                engine.cleanup(keep_images=[config.tag] if config is not None and config.keep_image else [])
        finally:
            self._lifetime.close()

    # -- collection ----------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Add the selected built-in checks (before `-m`/`-k` filter them) and put budgets last.

        Checks up to the measuring stage run first, users' tests next, the load check after them, budgets last.
        tryfirst: pytest's own marker and keyword selection then apply to the checks like to any test.
        """
        if self._wants_checks():
            try:
                self.selection = catalogue.select(self.config(), _check_names(config, self.config()))
            except HarnessError as exc:
                raise pytest.UsageError(str(exc)) from exc
            collector = HarnessChecks.for_session(session, self.selection)
            made = [item for item in collector.collect() if isinstance(item, pytest.Item)]
            # Reported like any collected module, so "collected N items" counts the checks too.
            config.hook.pytest_collectreport(
                report=pytest.CollectReport(collector.nodeid, "passed", None, list(made))
            )
            late = [item for item in made if (check := check_of(item)) is not None and check.stage in _LATE]
            items[:] = [item for item in made if item not in late] + items + late
        dropped = [item for item in items if _is_budget(item) and getattr(item, "callspec", None) is None]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        kept = [item for item in items if item not in dropped]
        items[:] = [item for item in kept if not _is_budget(item)] + [item for item in kept if _is_budget(item)]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One test per budget: the `harness_budget` argument is parametrized from the budgets file."""
        if BUDGET_FIXTURE not in metafunc.fixturenames:
            return
        budgets = self.budgets()
        if budgets:
            metafunc.parametrize(BUDGET_FIXTURE, budgets, ids=[budget.name for budget in budgets])

    def _wants_checks(self) -> bool:
        """Built-in checks join a run given --harness or --harness-checks, or one whose `-m` asks for
        `container` tests (like `-m container`, not `-m "not data"`) in a project with a harness configuration.
        """
        if self.distributed:
            return False
        options = self.pytest_config.option
        if options.harness or options.harness_checks:
            return True
        return requires_container_marker(options.markexpr) and has_configuration(self.pytest_config)

    # -- running -------------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """A check whose need failed is skipped as blocked; a budget on a figure nobody measures, too; under
        pytest-xdist, a test that needs the engine."""
        if self.distributed and ENGINE_FIXTURE in getattr(item, "fixturenames", ()):
            pytest.skip("the harness is off under pytest-xdist (see the note in the summary); run with -n 0")
        check = check_of(item)
        if check is None:
            return
        self._status(f"{item.name} ({check.stage})")
        for need in check.needs:
            if need in self.failed:
                self.failed[check.name] = self.failed[need]
                pytest.skip(f"blocked by {self.failed[need]}")
        budget = getattr(item, "callspec", None) and item.callspec.params.get(BUDGET_FIXTURE)  # type: ignore[attr-defined]
        if isinstance(budget, Budget):
            self._skip_unmeasurable(budget)

    def _status(self, doing: str) -> None:
        """One line on the terminal as a check starts (silenced by -q); the details go to `logging`."""
        _log.info("check %s", doing)
        reporter = self.pytest_config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and self.pytest_config.get_verbosity() >= 0:
            reporter.write_line(f"container-harness: {doing}", cyan=True)

    def _skip_unmeasurable(self, budget: Budget) -> None:
        owner = catalogue.recording(budget.name)
        if owner is None:
            return
        if owner.name in self.failed:
            pytest.skip(f"blocked by {self.failed[owner.name]}")
        if self.selection and owner not in self.selection:
            why = owner.unsupported_because(self.config()) or "left out of the selected checks"
            pytest.skip(f"{budget.name} is not measured in this run: check {owner.name} does not run ({why})")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Harness errors as their message and hint, container logs as a report section, figures as properties."""
        item.user_properties.extend((name, _property_value(value)) for name, value in self.results.drain())
        report: pytest.TestReport = yield
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, HarnessError):
            report.longrepr = f"{type(error).__name__}: {error}"
        if isinstance(error, ContainerExitedError) and error.log_tail:
            report.sections.append(("container logs", "\n".join(error.log_tail)))
        check = check_of(item)
        if check is not None and report.failed and check.name not in self.failed:
            self.failed[check.name] = f"{check.name}: {_first_line(report)}"
        if check is not None and call.when == "call" and self._contention is not None:
            seen = window(self._contention.samples, call.start, call.stop, self._engine_cpus)
            if seen.max_share >= self.config().contention_cpu_share:
                self.contended[check.name] = seen
        return report

    # -- the report ----------------------------------------------------------------------------------

    def _announce_figure(self, name: str, value: Any, unit: str | None) -> None:
        self.pytest_config.hook.pytest_harness_figure(config=self.pytest_config, name=name, value=value, unit=unit)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Write report.json and report.md when the run measured anything.

        tryfirst: before junitxml writes its file, so the suite-level properties get into it. Clean-up is the
        `harness_session` fixture's finalizer, with pytest_unconfigure as the last chance. Under pytest-xdist no
        process writes one: each worker saw only its share of the tests.
        """
        self.report = None if self.distributed else self._build_report()
        if self.report is not None:
            self._write_report(self.report)

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
    ) -> None:
        """The figures and budgets as tables at the end of the run, as wide as pytest's own lines."""
        if self.distributed:
            terminalreporter.write_sep("=", "container harness")
            terminalreporter.write_line(f"note: {XDIST_OFF}", yellow=True)
            return
        if self.report is None:
            return
        buffer = io.StringIO()
        width = config.get_terminal_writer().fullwidth
        console = Console(file=buffer, width=width, force_terminal=terminalreporter.hasmarkup)
        for table in render.render_rich_table(self.report):
            console.print(table)
        terminalreporter.write_sep("=", "container harness")
        for note in self.report.get("notes", []):
            terminalreporter.write_line(f"note: {note}", yellow=True)
        terminalreporter.write(buffer.getvalue())
        terminalreporter.write_line(f"report: {self.config().report_path}")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Last-chance clean-up."""
        self.end_engine()

    def _build_report(self) -> dict[str, Any] | None:
        """The report of what the run measured, or None when it measured nothing (e.g. only unit tests ran).

        The engine facts every container test records are not a measurement: a run of container tests that
        use no harness check must not overwrite the report of a run that did.
        """
        figures = self.results.figures()
        if not any(group != _ENVIRONMENT for group in figures) and not self.results.budgets:
            return None
        environment: dict[str, Any] = {
            "commit": commit_sha(self.config().root),
            "harness": {
                "started_at": self.started_at.isoformat(timespec="seconds"),
                "wall_s": round(time.monotonic() - self.started, 3),
                "python": platform.python_version(),
                "pytest": pytest.__version__,
                "platform": platform.platform(),
                "checks": [check.name for check in self.selection],
            }
        }
        notes = list(self.results.notes)
        if self.contended:
            environment["contention"] = self._contention_report(figures)
            # After the tests, so a note in the report only: a warning here would reach no test.
            notes.append(self._contention_note(environment["contention"]["figures"]))
        hook = self.pytest_config.hook
        hook.pytest_harness_environment(config=self.pytest_config, environment=environment)
        report = render.build_report(figures, self.results.units(), self.results.budgets, environment)
        if notes:
            report["notes"] = notes
        hook.pytest_harness_update_report(config=self.pytest_config, report=report)
        return report

    def _contention_report(self, figures: dict[str, Any]) -> dict[str, Any]:
        """Which checks measured on a busy engine, and the figures they recorded (the gate's inconclusive ones)."""
        contended = [check for check in self.selection if check.name in self.contended]
        names = [name for check in contended for name in check.records if lookup(figures, name) is not None]
        return {
            "threshold_share": self.config().contention_cpu_share,
            "checks": {name: seen.to_report() for name, seen in self.contended.items()},
            "figures": names,
        }

    def _contention_note(self, names: list[str]) -> str:
        return (
            f"other containers used over {self.config().contention_cpu_share:.0%} of the engine's CPUs while "
            f"{', '.join(self.contended)} measured: {len(names)} figures are marked contended (environment.contention)"
        )

    def markdown(self, report: dict[str, Any]) -> str:
        """report.md's text: the report, with each figure's change against the configured baseline."""
        return render.render_markdown(report, render.read_baseline(self.config().baseline_path))

    def _write_report(self, report: dict[str, Any]) -> None:
        """report.json, report.md and suite-level JUnit properties."""
        config = self.config()
        render.write_json(report, config.report_path)
        config.markdown_path.parent.mkdir(parents=True, exist_ok=True)
        config.markdown_path.write_text(self.markdown(report))
        if self.suite_property is not None:
            for name, value in render.junit_properties(report):
                self.suite_property(name, value)


def _warn(note: str) -> None:
    """A note as a HarnessNote warning: pytest shows it with the test that made it, `-W error` fails that test."""
    warnings.warn(HarnessNote(note), stacklevel=3)


@contextmanager
def ryuk_disabled() -> Iterator[None]:
    """testcontainers starts no Ryuk reaper within the block (it would outlive our own clean-up rules).

    Set on testcontainers' config object: it reads TESTCONTAINERS_RYUK_DISABLED once and keeps the answer, so
    setting the variable after anything asked has no effect. Its previous setting is back after the block.
    """
    previous = testcontainers_config.ryuk_disabled
    testcontainers_config.ryuk_disabled = True
    try:
        yield
    finally:
        testcontainers_config.ryuk_disabled = previous


def _first_line(report: pytest.TestReport) -> str:
    """The most telling line of a failure: its first `E ` line, else its first line."""
    lines = report.longreprtext.strip().splitlines()
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return errors[0] if errors else (lines[0] if lines else "failed")


def _is_budget(item: pytest.Item) -> bool:
    return BUDGET_FIXTURE in getattr(item, "fixturenames", ())


def _check_names(config: pytest.Config, harness: HarnessConfig) -> list[str] | None:
    """--harness-checks (comma-separated), else [tool.harness] checks, else None (every supported check)."""
    option = config.getoption("harness_checks")
    if option:
        return [name.strip() for name in option.split(",") if name.strip()]
    return harness.checks


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
        "ab.baseline": config.getoption("--harness-ab-baseline"),
        "ab.rounds": config.getoption("--harness-ab-rounds"),
    }


def _absolute(config: pytest.Config, value: str | None) -> str | None:
    """Paths given on the command line or in ini are relative to the rootdir, not to the config file."""
    if value is None:
        return None
    path = Path(value)
    return str(path if path.is_absolute() else Path(config.rootpath) / path)


def _property_value(value: Any) -> str:
    """A figure as a JUnit property value: scalars as they are, structures as JSON."""
    return value if isinstance(value, str) else json.dumps(value, default=str)
