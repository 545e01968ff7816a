"""The pytest11 entry point: options, markers, hook specs, and the `HarnessSession` that does the work.

Like pytest-xdist's plugin module it only declares and wires; the session object (session.py) holds the state
and implements the hooks, and the fixtures live in fixtures.py. Both are imported and registered only for a
harness run (activation.py), so other pytest runs never load docker, testcontainers, pydantic or rich.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from container_harness.pytest_plugin.activation import MARKER, is_active

if TYPE_CHECKING:
    import pytest


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """The hooks users may implement: pytest_harness_figure, _environment and _update_report."""
    from container_harness.pytest_plugin import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Command-line options; the main ones can also be ini options ([tool.pytest.ini_options])."""
    group = parser.getgroup("harness", "container image harness")
    group.addoption(
        "--harness",
        action="store_true",
        default=False,
        help="add the built-in checks of the configured image (also added by any -m expression)",
    )
    group.addoption(
        "--harness-checks",
        metavar="NAMES",
        help="comma-separated built-in checks to run (default: [tool.harness] checks, else all supported)",
    )
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
        help="run the load check (default: load.enabled of the configuration)",
    )
    group.addoption(
        "--no-harness-load",
        dest="harness_load",
        action="store_false",
        help="leave the load check out; budgets on its figures are skipped",
    )
    group.addoption(
        "--harness-ab-baseline",
        metavar="IMAGE",
        help="compare the built image with this one in same-run ABBA rounds (one test per figure)",
    )
    group.addoption("--harness-ab-rounds", type=int, metavar="N", help="A/B rounds (default: [tool.harness.ab] rounds)")
    parser.addini("harness_config", "TOML with the harness keys (default: [tool.harness] of pyproject.toml)")
    parser.addini("harness_report", "where report.json goes")
    parser.addini("harness_budgets", "budgets TOML")
    parser.addini("harness_build_repeats", "builds of each kind")
    parser.addini("harness_start_repeats", "container starts timed by the start-up check")
    parser.addini("harness_keep", "keep what the run made", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; for a harness run also its HarnessSession, fixtures and the job-summary writer on CI."""
    config.addinivalue_line("markers", f"{MARKER}: builds or runs container images (needs a Docker engine)")
    if not is_active(config):
        return
    from container_harness.pytest_plugin import ab_checks, fixtures, github_summary
    from container_harness.pytest_plugin.session import HarnessSession

    config.pluginmanager.register(HarnessSession(config), fixtures.SESSION_PLUGIN)
    config.pluginmanager.register(fixtures, "container_harness_fixtures")
    config.pluginmanager.register(ab_checks, "container_harness_ab")
    if os.environ.get(github_summary.ENV):
        config.pluginmanager.register(github_summary, "container_harness_github_summary")
