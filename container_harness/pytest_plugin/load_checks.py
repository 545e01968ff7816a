"""The load checks: the configured scenario (with its health floor) and the latency-throughput curve, run by the
plugin's load job (container_harness.jobs.plugin_load) against a pinned container of the built image, and
collected by the plugin with the other checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from container_harness.config import HarnessConfig, load_pinning, load_spec
from container_harness.errors import ConfigError
from container_harness.jobs.plugin_containers import StartContainer
from container_harness.jobs.plugin_load import curve_points, scenario_problems
from container_harness.specs import LoadSpec

if TYPE_CHECKING:
    from container_harness.ownership import EngineSession
    from container_harness.report.results import Results


@pytest.mark.container
def load(
    harness_config: HarnessConfig,
    start_container: StartContainer,
    harness_results: Results,
    harness_session: EngineSession,
) -> None:
    """The configured scenario runs without a failed request; latency, throughput and resources recorded."""
    spec = _spec(harness_config)
    running = start_container(**load_pinning(harness_config))
    problems = scenario_problems(harness_session, harness_config, running, spec, harness_results)
    assert not problems, "; ".join(problems)


@pytest.mark.container
def load_curve(harness_config: HarnessConfig, start_container: StartContainer, harness_results: Results) -> None:
    """The latency-throughput curve: capacity, then paced rates; the knee and the PNG land in the report.

    It takes several load runs: the plugin collects it only when load.curve is set.
    """
    spec = _spec(harness_config)
    running = start_container(**load_pinning(harness_config))
    points = curve_points(harness_config, running, spec, harness_results)
    assert not [p for p in points if p["errors"]], f"requests failed on the curve: {points}"


def _spec(config: HarnessConfig) -> LoadSpec:
    """The configured load run, or a failure naming the missing locustfile."""
    try:
        return load_spec(config)
    except ConfigError as exc:
        pytest.fail(str(exc), pytrace=False)
