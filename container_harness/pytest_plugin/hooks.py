"""Hooks a user's conftest.py or plugin may implement (added to pytest by `pytest_addhooks`)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_harness_figure(config: pytest.Config, name: str, value: Any, unit: str | None) -> None:
    """Called for every figure a check records, as it is recorded (e.g. to stream it to a dashboard)."""


@pytest.hookspec
def pytest_harness_environment(config: pytest.Config, environment: dict[str, Any]) -> None:
    """Add facts about the run to the report's `environment` section (edit `environment` in place)."""


@pytest.hookspec
def pytest_harness_update_report(config: pytest.Config, report: dict[str, Any]) -> None:
    """Edit the finished report (in place) before report.json and report.md are written."""
