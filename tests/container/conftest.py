"""Shared fixtures of the API image's reliability tests (test_hardening.py, test_model_failures.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from container_harness.build.timer import build_current
from container_harness.config import HarnessConfig, image_spec, run_spec
from container_harness.ownership import EngineSession
from container_harness.run.container import RunningContainer, start_container

StartApi = Callable[..., RunningContainer]


@pytest.fixture(scope="session")
def api_image(harness_session: EngineSession, harness_config: HarnessConfig) -> str:
    """Id of the configured image, brought up to date with the tree through the build cache.

    These tests exercise the image's behaviour, not its build, so one cached build (under a second when
    nothing changed) replaces the plugin's timed full, cached and code-change builds, and never tests a
    stale image.
    """
    return build_current(harness_session, image_spec(harness_config)).image_id


@pytest.fixture
def start_api(harness_session: EngineSession, harness_config: HarnessConfig, api_image: str) -> Iterator[StartApi]:
    """Factory: `start_api(wait_ready=..., **RunSpec overrides)` runs api_image; removed when the test ends."""
    started: list[RunningContainer] = []

    def start(*, wait_ready: bool = True, **overrides: Any) -> RunningContainer:
        spec = run_spec(harness_config, **overrides)
        running = start_container(harness_session, api_image, spec, wait_ready=wait_ready)
        started.append(running)
        return running

    yield start
    for running in started:
        running.remove()
