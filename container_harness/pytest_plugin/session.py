"""`HarnessSession`: the one object registered for a harness run; it implements the run's hooks.

`plugin.py` registers it in `pytest_configure`. It selects and orders the built-in checks, skips the blocked
ones, turns harness errors into readable failures and prints the report's tables; the engine session and what it
changes in the process live in the job's `EngineLifetime` (jobs/engine_lifetime.py), the report in its
`RunReport` (jobs/plugin_report.py). It changes nothing in a run until a test asks for the engine (the
`harness_session` fixture), and nothing at all under pytest-xdist.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from container_harness.config import HarnessConfig, load_config
from container_harness.errors import ConfigNotFoundError, ContainerExitedError, HarnessError
from container_harness.jobs.engine_lifetime import EngineLifetime
from container_harness.jobs.plugin_report import RunReport, configured_budgets
from container_harness.pytest_plugin import catalogue
from container_harness.pytest_plugin.activation import (
    config_file,
    has_configuration,
    pyproject,
    requires_container_marker,
    xdist_distributes,
    xdist_worker,
)
from container_harness.pytest_plugin.catalogue import Check
from container_harness.pytest_plugin.collect import BUDGET_FIXTURE, budgets_last, check_of, place_checks
from container_harness.pytest_plugin.notes import HarnessNote
from container_harness.pytest_plugin.report_hooks import PytestReportHooks

if TYPE_CHECKING:
    from container_harness.gate.budgets import Budget

_log = logging.getLogger(__name__)
ENGINE_FIXTURE = "harness_session"
XDIST_OFF = (
    "the harness is off under pytest-xdist: its built-in checks are not collected, tests that use the engine "
    f"({ENGINE_FIXTURE}) are skipped and no report is written, because every worker would build, run and measure "
    "the image on its own, on CPUs the other workers load; run the container tests in one process: -n 0"
)


class HarnessSession:
    """A pytest run's harness: its configuration, the checks it selected and which failed, its engine and report."""

    def __init__(self, config: pytest.Config) -> None:
        self.pytest_config = config
        self.selection: list[Check] = []
        self.failed: dict[str, str] = {}  # check name -> the failed check behind it and why
        self.engine = EngineLifetime()
        self.run_report = RunReport(self.config, PytestReportHooks(config))
        self._harness_config: HarnessConfig | None = None
        self.distributed = xdist_distributes(config)  # then off, as pytest-benchmark is: see XDIST_OFF
        if self.distributed and not xdist_worker(config):
            config.issue_config_time_warning(HarnessNote(XDIST_OFF), stacklevel=2)

    # -- configuration -------------------------------------------------------------------------------

    def config(self) -> HarnessConfig:
        """The harness configuration, read on first use (runs without container tests never read it)."""
        if self._harness_config is None:
            try:
                self._harness_config = self._load_config()
            except ConfigNotFoundError as exc:
                raise exc.for_option("--harness-config") from exc
        return self._harness_config

    def _load_config(self) -> HarnessConfig:
        """load_config with the run's options; [tool.harness] from the pyproject.toml activation already read."""
        config = self.pytest_config
        file = config_file(config)
        document = pyproject(config) if file is None else None
        return load_config(Path(config.rootpath), file, _overrides(config), pyproject=document)

    def budgets(self) -> list[Budget]:
        """The configured budgets (none without a budgets file); configuration errors stop the run clearly."""
        try:
            return configured_budgets(self.config())
        except HarnessError as exc:
            raise pytest.UsageError(str(exc)) from exc

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
            place_checks(session, self.selection, items)
        budgets_last(config, items)

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
        if budget:
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
        item.user_properties.extend(
            (name, _property_value(value)) for name, value in self.run_report.results.drain()
        )
        report: pytest.TestReport = yield
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, HarnessError):
            report.longrepr = f"{type(error).__name__}: {error}"
        if isinstance(error, ContainerExitedError) and error.log_tail:
            report.sections.append(("container logs", "\n".join(error.log_tail)))
        check = check_of(item)
        if check is not None and report.failed and check.name not in self.failed:
            self.failed[check.name] = f"{check.name}: {_first_line(report)}"
        if check is not None and call.when == "call":
            self.run_report.measured(check.name, self.engine.contention(call.start, call.stop))
        return report

    # -- the end of the run --------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Write report.json and report.md when the run measured anything.

        tryfirst: before junitxml writes its file, so the suite-level properties get into it. Clean-up is the
        `harness_session` fixture's finalizer, with pytest_unconfigure as the last chance. Under pytest-xdist no
        process writes one: each worker saw only its share of the tests.
        """
        if not self.distributed:
            selection = {check.name: check.records for check in self.selection}
            self.run_report.finish(selection, runner={"pytest": pytest.__version__})

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
    ) -> None:
        """The report's tables at the end of the run; under pytest-xdist, why there are none."""
        if self.distributed:
            terminalreporter.write_sep("=", "container harness")
            terminalreporter.write_line(f"note: {XDIST_OFF}", yellow=True)
            return
        report = self.run_report.report
        if report is None:
            return
        terminalreporter.write_sep("=", "container harness")
        for note in report.get("notes", []):
            terminalreporter.write_line(f"note: {note}", yellow=True)
        width = self.pytest_config.get_terminal_writer().fullwidth
        terminalreporter.write(self.run_report.tables(width, terminalreporter.hasmarkup))
        terminalreporter.write_line(f"report: {self.config().report_path}")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Last-chance clean-up."""
        self.engine.end()


def _first_line(report: pytest.TestReport) -> str:
    """The most telling line of a failure: its first `E ` line, else its first line."""
    lines = report.longreprtext.strip().splitlines()
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return errors[0] if errors else (lines[0] if lines else "failed")


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
