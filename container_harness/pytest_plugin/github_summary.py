"""Built-in user of the report hook: appends the report's Markdown to GitHub Actions' job summary."""

from __future__ import annotations

import os
from typing import Any

import pytest

ENV = "GITHUB_STEP_SUMMARY"
SESSION_PLUGIN = "container_harness_session"  # the HarnessSession's name (see fixtures.py)


@pytest.hookimpl(trylast=True)
def pytest_harness_update_report(config: pytest.Config, report: dict[str, Any]) -> None:
    """Last of the report's editors, so the summary shows the report as it is written."""
    path = os.environ.get(ENV)
    harness = config.pluginmanager.get_plugin(SESSION_PLUGIN)
    if path and harness is not None:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(harness.run_report.markdown(report))
