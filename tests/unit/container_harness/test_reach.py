"""Where containers are reached: the run.host / run.bind overrides (testcontainers' own answer, which asks
the engine, is proven on the real engine in tests/container/test_remote_engine.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from testcontainers.core.config import ConnectionMode

from container_harness.run import reach
from container_harness.run.reach import plan_reach


@pytest.fixture(autouse=True)
def fresh_answers() -> Iterator[None]:
    """plan_reach and testcontainers' client are made once per process: forget them around each test."""
    reach.plan_reach.cache_clear()
    reach._testcontainers.cache_clear()
    yield
    reach.plan_reach.cache_clear()
    reach._testcontainers.cache_clear()


def test_run_host_wins_over_testcontainers() -> None:
    planned = plan_reach("198.51.100.9", "198.51.100.9")
    assert (planned.mode, planned.host, planned.bind) == (ConnectionMode.docker_host, "198.51.100.9", "198.51.100.9")


def test_a_loopback_host_is_reached_and_published_on_127_0_0_1() -> None:
    planned = plan_reach("localhost")
    assert (planned.host, planned.bind) == ("127.0.0.1", "127.0.0.1")
    assert planned.to_report() == {"mode": "docker_host", "host": "127.0.0.1", "bind": "127.0.0.1", "network": None}
