"""The same-run A/B inside pytest: `--harness-ab-baseline IMAGE` compares the configured image with it, one
test per figure (`test_ab[load.p95_ms]`), failing on `regression` and on a client-bound throughput.

Wiring (for plugin.py): call add_ab_options(group) from pytest_addoption; collect test_ab and the harness_ab
fixture only when ab_requested(config). The candidate is the image the session built (the `built_image`
fixture); the rounds and settings come from [tool.harness.ab] like the CLI's.
"""

from __future__ import annotations

from typing import Any

import pytest

from container_harness.config import HarnessConfig
from container_harness.gate.ab import plan_of, run_ab
from container_harness.gate.ab_result import FIGURES, INFORMATIONAL, THROUGHPUT, AbResult
from container_harness.image.inspect import ImageFacts
from container_harness.ownership import EngineSession
from container_harness.report.results import Results

__all__ = ["harness_ab", "test_ab"]

BASELINE_OPTION = "--harness-ab-baseline"
ROUNDS_OPTION = "--harness-ab-rounds"
AB_FIGURES = [spec.name for spec in FIGURES] + ["image.size_bytes", "image.layers"]


def add_ab_options(group: Any) -> None:
    """The A/B's command-line options, added to the plugin's option group."""
    group.addoption(
        BASELINE_OPTION,
        metavar="IMAGE",
        help="compare the built image with this one in same-run ABBA rounds (one test per figure)",
    )
    group.addoption(ROUNDS_OPTION, type=int, metavar="N", help="A/B rounds (default: [tool.harness.ab] rounds)")


def ab_requested(config: pytest.Config) -> bool:
    """Whether this run asked for the A/B (the plugin collects test_ab only then)."""
    return bool(config.getoption(BASELINE_OPTION, default=None))


@pytest.fixture(scope="session")
def harness_ab(
    pytestconfig: pytest.Config,
    harness_config: HarnessConfig,
    harness_session: EngineSession,
    harness_results: Results,
    built_image: ImageFacts,
) -> AbResult:
    """The A/B of the built image against --harness-ab-baseline, run once; recorded as the report's `ab`."""
    baseline = pytestconfig.getoption(BASELINE_OPTION)
    plan = plan_of(harness_config, rounds=pytestconfig.getoption(ROUNDS_OPTION))
    out_dir = harness_config.report_path.parent / "ab"
    result = run_ab(harness_session, plan, baseline, built_image.id, out_dir, lambda line: None)
    harness_results.record("ab", result.to_report())
    return result


@pytest.mark.container
@pytest.mark.parametrize("figure", AB_FIGURES)
def test_ab(pytestconfig: pytest.Config, figure: str, request: pytest.FixtureRequest) -> None:
    """The built image is not worse than the baseline on this figure (interval wholly past the threshold)."""
    if not ab_requested(pytestconfig):
        pytest.skip(f"no A/B requested: pass {BASELINE_OPTION} IMAGE")
    result: AbResult = request.getfixturevalue("harness_ab")
    entry = result.to_report()
    judged = entry["figures"].get(figure) or entry["exact"][figure]
    shown = (
        f"{figure}: {judged['verdict']}, ratio {judged['ratio']} "
        f"(CI {judged.get('ci_low')} to {judged.get('ci_high')}), baseline {judged['baseline']}, "
        f"candidate {judged['candidate']}"
    )
    if figure == THROUGHPUT and result.client_bound:
        pytest.fail(f"{shown}: not comparable: {judged['note']}", pytrace=False)
    if judged["verdict"] == "regression" and figure not in INFORMATIONAL:
        pytest.fail(f"{shown}: REGRESSION against {result.baseline.ref}", pytrace=False)
