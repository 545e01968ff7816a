"""Shared fixtures of the API image's reliability tests (test_hardening.py, test_model_failures.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from docker.errors import ImageNotFound

from harness.config import HarnessConfig, run_spec
from harness.container_run import RunningContainer, start_container
from harness.hygiene import Session

StartApi = Callable[..., RunningContainer]


@pytest.fixture(scope="session")
def api_image(request: pytest.FixtureRequest, harness_session: Session, harness_config: HarnessConfig) -> str:
    """Id of the configured image: the one on the engine when present, else built by the plugin.

    These tests exercise the image's behaviour, not its build, so they reuse the tag when it exists instead
    of paying for the plugin's full, cached and code-change builds.
    """
    try:
        image_id: str = harness_session.client.images.get(harness_config.tag).id
    except ImageNotFound:
        image_id = request.getfixturevalue("built_image").id
    return image_id


@pytest.fixture
def start_api(harness_session: Session, harness_config: HarnessConfig, api_image: str) -> Iterator[StartApi]:
    """Factory: `start_api(wait_ready=..., **RunSpec overrides)` runs api_image; removed when the test ends.

    The plugin's start_container does the same on `built_image`, which always times three builds first.
    """
    started: list[RunningContainer] = []

    def start(*, wait_ready: bool = True, **overrides: Any) -> RunningContainer:
        spec = run_spec(harness_config, **overrides)
        running = start_container(harness_session, api_image, spec, wait_ready=wait_ready)
        started.append(running)
        return running

    yield start
    for running in started:
        running.remove()
