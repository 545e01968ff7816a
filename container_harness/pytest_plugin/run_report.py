"""A pytest run's report: the figures and budgets its tests recorded, the facts about the run, and which checks
measured on a busy engine; written as report.json, report.md and suite-level JUnit properties, and shown as
tables in the terminal summary. The `HarnessSession` feeds it and calls it at the end of the run."""

from __future__ import annotations

import io
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console

from container_harness.config import HarnessConfig
from container_harness.figures import lookup
from container_harness.measure.contention import Window
from container_harness.pytest_plugin.catalogue import Check
from container_harness.pytest_plugin.notes import HarnessNote
from container_harness.report import render
from container_harness.report.commit import commit_sha
from container_harness.report.results import Results

_ENVIRONMENT = "environment"  # report group of facts about the run, not of the image


class RunReport:
    """What a run recorded, and the report made of it at the end (None when it measured nothing)."""

    def __init__(self, pytest_config: pytest.Config, harness_config: Callable[[], HarnessConfig]) -> None:
        self.pytest_config = pytest_config
        self.harness_config = harness_config  # read only when there is something to report
        self.results = Results(on_record=self._announce_figure, on_note=_warn)
        self.started_at = datetime.now(UTC)
        self.started = time.monotonic()
        self.suite_property: Callable[[str, object], None] | None = None  # record_testsuite_property
        self.contended: dict[str, Window] = {}  # check name -> what other containers used while it measured
        self.report: dict[str, Any] | None = None

    def _announce_figure(self, name: str, value: Any, unit: str | None) -> None:
        self.pytest_config.hook.pytest_harness_figure(config=self.pytest_config, name=name, value=value, unit=unit)

    def finish(self, selection: Sequence[Check]) -> None:
        """Build the report and write report.json, report.md and the suite properties, if the run measured."""
        self.report = self._build(selection)
        if self.report is not None:
            self._write(self.report)

    def summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The figures and budgets as tables, as wide as pytest's own lines; nothing without a report."""
        if self.report is None:
            return
        buffer = io.StringIO()
        width = self.pytest_config.get_terminal_writer().fullwidth
        console = Console(file=buffer, width=width, force_terminal=terminalreporter.hasmarkup)
        for table in render.render_rich_table(self.report):
            console.print(table)
        terminalreporter.write_sep("=", "container harness")
        for note in self.report.get("notes", []):
            terminalreporter.write_line(f"note: {note}", yellow=True)
        terminalreporter.write(buffer.getvalue())
        terminalreporter.write_line(f"report: {self.harness_config().report_path}")

    def markdown(self, report: dict[str, Any]) -> str:
        """report.md's text: the report, with each figure's change against the configured baseline."""
        return render.render_markdown(report, render.read_baseline(self.harness_config().baseline_path))

    def _build(self, selection: Sequence[Check]) -> dict[str, Any] | None:
        """The report of what the run measured, or None when it measured nothing (e.g. only unit tests ran).

        The engine facts every container test records are not a measurement: a run of container tests that
        use no harness check must not overwrite the report of a run that did.
        """
        figures = self.results.figures()
        if not any(group != _ENVIRONMENT for group in figures) and not self.results.budgets:
            return None
        environment: dict[str, Any] = {
            "commit": commit_sha(self.harness_config().root),
            "harness": {
                "started_at": self.started_at.isoformat(timespec="seconds"),
                "wall_s": round(time.monotonic() - self.started, 3),
                "python": platform.python_version(),
                "pytest": pytest.__version__,
                "platform": platform.platform(),
                "checks": [check.name for check in selection],
            },
        }
        notes = list(self.results.notes)
        if self.contended:
            environment["contention"] = self._contention_report(selection, figures)
            # After the tests, so a note in the report only: a warning here would reach no test.
            notes.append(self._contention_note(environment["contention"]["figures"]))
        hook = self.pytest_config.hook
        hook.pytest_harness_environment(config=self.pytest_config, environment=environment)
        report = render.build_report(figures, self.results.units(), self.results.budgets, environment)
        if notes:
            report["notes"] = notes
        hook.pytest_harness_update_report(config=self.pytest_config, report=report)
        return report

    def _contention_report(self, selection: Sequence[Check], figures: dict[str, Any]) -> dict[str, Any]:
        """Which checks measured on a busy engine, and the figures they recorded (the gate's inconclusive ones)."""
        contended = [check for check in selection if check.name in self.contended]
        names = [name for check in contended for name in check.records if lookup(figures, name) is not None]
        return {
            "threshold_share": self.harness_config().contention_cpu_share,
            "checks": {name: seen.to_report() for name, seen in self.contended.items()},
            "figures": names,
        }

    def _contention_note(self, names: list[str]) -> str:
        return (
            f"other containers used over {self.harness_config().contention_cpu_share:.0%} of the engine's CPUs "
            f"while {', '.join(self.contended)} measured: {len(names)} figures are marked contended "
            "(environment.contention)"
        )

    def _write(self, report: dict[str, Any]) -> None:
        """report.json, report.md and suite-level JUnit properties."""
        config = self.harness_config()
        render.write_json(report, config.report_path)
        config.markdown_path.parent.mkdir(parents=True, exist_ok=True)
        config.markdown_path.write_text(self.markdown(report))
        if self.suite_property is not None:
            for name, value in render.junit_properties(report):
                self.suite_property(name, value)


def _warn(note: str) -> None:
    """A note as a HarnessNote warning: pytest shows it with the test that made it, `-W error` fails that test."""
    warnings.warn(HarnessNote(note), stacklevel=3)
