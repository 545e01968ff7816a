"""The load check on the API image, configured by [tool.harness.load] in pyproject.toml."""

from harness.load_checks import *  # noqa: F403
