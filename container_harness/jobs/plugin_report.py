"""The plugin run's report: the figures and budgets its tests recorded, facts about the run, and which checks
measured on a busy engine; written as report.json and report.md, with the suite-level JUnit properties and the
terminal tables made of it. The front door passes its hooks in (ReportHooks), so nothing here knows pytest."""

from __future__ import annotations

import io
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from rich.console import Console

from container_harness.config import HarnessConfig
from container_harness.figures import lookup
from container_harness.gate.budgets import Budget, BudgetOutcome, evaluate, load_budgets
from container_harness.measure.contention import Window
from container_harness.report import render
from container_harness.report.commit import commit_sha
from container_harness.report.results import Results

_ENVIRONMENT = "environment"  # report group of facts about the run, not of the image


class ReportHooks(Protocol):
    """Where the front door hears of the report as it grows (the plugin: its hooks and warnings)."""

    def figure(self, name: str, value: Any, unit: str | None) -> None:
        """A figure, as it is recorded."""

    def note(self, note: str) -> None:
        """A note a reader must know to trust a figure, as it is made."""

    def environment(self, environment: dict[str, Any]) -> None:
        """The report's facts about the run, to edit in place before the report is built."""

    def report(self, report: dict[str, Any]) -> None:
        """The finished report, to edit in place before it is written."""


class RunReport:
    """What a run recorded, and the report made of it at the end (None when it measured nothing)."""

    def __init__(self, harness_config: Callable[[], HarnessConfig], hooks: ReportHooks) -> None:
        self.harness_config = harness_config  # read only when there is something to report
        self.hooks = hooks
        self.results = Results(on_record=hooks.figure, on_note=hooks.note)
        self.started_at = datetime.now(UTC)
        self.started = time.monotonic()
        self.suite_property: Callable[[str, object], None] | None = None  # record_testsuite_property
        self.contended: dict[str, Window] = {}  # check name -> what other containers used while it measured
        self.report: dict[str, Any] | None = None

    def measured(self, check: str, seen: Window | None) -> None:
        """What other containers used while a check measured: kept when over contention_cpu_share."""
        if seen is not None and seen.max_share >= self.harness_config().contention_cpu_share:
            self.contended[check] = seen

    def finish(self, selection: Mapping[str, Sequence[str]], runner: Mapping[str, str]) -> None:
        """Build the report and write report.json, report.md and the suite properties, if the run measured.

        selection: each selected check's name and the figures it records; runner: the test runner's versions.
        """
        self.report = self._build(selection, runner)
        if self.report is not None:
            self._write(self.report)

    def tables(self, width: int, markup: bool) -> str:
        """The figures and budgets as tables `width` columns wide (empty without a report)."""
        if self.report is None:
            return ""
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, force_terminal=markup)
        for table in render.render_rich_table(self.report):
            console.print(table)
        return buffer.getvalue()

    def markdown(self, report: dict[str, Any]) -> str:
        """report.md's text: the report, with each figure's change against the configured baseline."""
        return render.render_markdown(report, render.read_baseline(self.harness_config().baseline_path))

    def _build(self, selection: Mapping[str, Sequence[str]], runner: Mapping[str, str]) -> dict[str, Any] | None:
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
                **runner,
                "platform": platform.platform(),
                "checks": list(selection),
            },
        }
        notes = list(self.results.notes)
        if self.contended:
            environment["contention"] = self._contention_report(selection, figures)
            # After the tests, so a note in the report only: a warning here would reach no test.
            notes.append(self._contention_note(environment["contention"]["figures"]))
        self.hooks.environment(environment)
        report = render.build_report(figures, self.results.units(), self.results.budgets, environment)
        if notes:
            report["notes"] = notes
        self.hooks.report(report)
        return report

    def _contention_report(self, selection: Mapping[str, Sequence[str]], figures: dict[str, Any]) -> dict[str, Any]:
        """Which checks measured on a busy engine, and the figures they recorded (the gate's inconclusive ones)."""
        records = [name for check, names in selection.items() if check in self.contended for name in names]
        return {
            "threshold_share": self.harness_config().contention_cpu_share,
            "checks": {name: seen.to_report() for name, seen in self.contended.items()},
            "figures": [name for name in records if lookup(figures, name) is not None],
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


def configured_budgets(config: HarnessConfig) -> list[Budget]:
    """The budgets of the configured budgets file (none without one); BudgetFileError names a bad file."""
    path = config.budgets_path
    return load_budgets(path) if path is not None else []


def judge_budget(budget: Budget, results: Results) -> BudgetOutcome:
    """One budget against the figures recorded so far; the outcome joins the report's budgets."""
    outcome = evaluate(budget, results.figures())
    results.add_budget(outcome)
    return outcome
