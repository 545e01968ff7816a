"""`HarnessNote`: the PytestWarning each harness note is also issued as, so users can filter notes or make them
fatal (`-W error::container_harness.pytest_plugin.notes.HarnessNote`), as pytest-benchmark does with its own."""

from __future__ import annotations

import pytest


class HarnessNote(pytest.PytestWarning):
    """Something a reader must know to trust a figure: an overridden setting, a suspicious build context."""
