"""The report's hooks as pytest gives them: each figure to `pytest_harness_figure`, each note as a `HarnessNote`
warning, the environment and the finished report to their `pytest_harness_*` hooks (jobs.plugin_report calls)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from container_harness.pytest_plugin.notes import HarnessNote


class PytestReportHooks:
    """jobs.plugin_report's ReportHooks for one pytest run."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def figure(self, name: str, value: Any, unit: str | None) -> None:
        """Users' pytest_harness_figure hooks hear of every figure as it is recorded."""
        self.config.hook.pytest_harness_figure(config=self.config, name=name, value=value, unit=unit)

    def note(self, note: str) -> None:
        """A note as a HarnessNote warning: pytest shows it with the test that made it, `-W error` fails that test."""
        warnings.warn(HarnessNote(note), stacklevel=3)

    def environment(self, environment: dict[str, Any]) -> None:
        """Users' pytest_harness_environment hooks add facts about the run."""
        self.config.hook.pytest_harness_environment(config=self.config, environment=environment)

    def report(self, report: dict[str, Any]) -> None:
        """Users' pytest_harness_update_report hooks edit the finished report."""
        self.config.hook.pytest_harness_update_report(config=self.config, report=report)
