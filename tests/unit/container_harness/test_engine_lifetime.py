"""What holding the engine changes in the process (Ryuk), and that it changes it back."""

from __future__ import annotations

import pytest
from testcontainers.core.config import testcontainers_config

from container_harness.jobs.engine_lifetime import ryuk_disabled


def test_ryuk_is_off_within_the_block_even_after_testcontainers_read_its_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TESTCONTAINERS_RYUK_DISABLED", raising=False)
    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", False)  # as read once, and kept, at start-up
    with ryuk_disabled():
        assert testcontainers_config.ryuk_disabled is True
    assert testcontainers_config.ryuk_disabled is False
