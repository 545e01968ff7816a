"""The load check on the API image, configured by [tool.harness.load] in pyproject.toml."""

from container_harness.pytest_plugin.load_checks import *  # noqa: F403
