"""Shared fixtures: the API image's for its reliability tests (test_hardening.py, test_model_failures.py), and
a running tiny service (busybox httpd) for the load tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from container_harness.build.timer import build_current
from container_harness.config import HarnessConfig, image_spec, run_spec
from container_harness.engine import connect
from container_harness.ownership import EngineSession, new_session
from container_harness.run.container import RunningContainer, start_container
from container_harness.specs import ImageSpec, RunSpec

StartApi = Callable[..., RunningContainer]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TINY = FIXTURES / "tiny_service"


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


@pytest.fixture(scope="module")
def tiny_base() -> Iterator[tuple[EngineSession, str]]:
    """A session and a base of its own for the tiny image (made by its provider); all removed at the end."""
    session: EngineSession = new_session(connect())
    try:
        base = f"harness-test/busybox:{session.id}"
        session.track_image(base)
        subprocess.run(["sh", str(TINY / "provide_base.sh"), base], check=True, capture_output=True, timeout=300)
        yield session, base
    finally:
        session.cleanup()


@pytest.fixture(scope="module")
def tiny_load_image(tiny_base: tuple[EngineSession, str]) -> str:
    """Id of the tiny service's image, built on its own base."""
    session, base = tiny_base
    spec = ImageSpec(
        dockerfile=TINY / "Dockerfile",
        context=TINY,
        tag=f"harness-test/tiny-load:{session.id}",
        build_args={"BASE_IMAGE": base},
    )
    return build_current(session, spec).image_id


@pytest.fixture(scope="module")
def tiny_url(tiny_base: tuple[EngineSession, str], tiny_load_image: str) -> Iterator[str]:
    """URL of a running tiny service."""
    with start_container(tiny_base[0], tiny_load_image, RunSpec(port=8080, health_path="/healthz")) as running:
        yield running.url()
