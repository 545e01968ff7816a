"""The same-run A/B inside pytest: `--harness-ab-baseline IMAGE` (or `[tool.harness.ab] baseline`) compares the
built image with it, one item per figure (`container-harness::ab[load.p95_ms]`), failing on `regression` and on
a client-bound throughput. The rounds and settings come from [tool.harness.ab] like the CLI's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from container_harness.config import HarnessConfig
from container_harness.gate.ab_result import FIGURES, INFORMATIONAL, THROUGHPUT, AbResult
from container_harness.jobs.ab import plan_of, run_ab

if TYPE_CHECKING:
    from container_harness.image.inspect import ImageFacts
    from container_harness.ownership import EngineSession
    from container_harness.report.results import Results

AB_FIGURES = [spec.name for spec in FIGURES] + ["image.size_bytes", "image.layers"]


@pytest.fixture(scope="session")
def harness_ab(
    harness_config: HarnessConfig,
    harness_session: EngineSession,
    harness_results: Results,
    built_image: ImageFacts,
) -> AbResult:
    """The A/B of the built image against ab.baseline, run once; recorded as the report's `ab`."""
    assert harness_config.ab.baseline is not None, "the plugin collects the A/B only with ab.baseline"
    plan = plan_of(harness_config, rounds=harness_config.ab.rounds)
    out_dir = harness_config.report_path.parent / "ab"
    result = run_ab(harness_session, plan, harness_config.ab.baseline, built_image.id, out_dir, lambda line: None)
    harness_results.record("ab", result.to_report())
    return result


@pytest.mark.container
@pytest.mark.parametrize("figure", AB_FIGURES)
def ab(figure: str, harness_ab: AbResult) -> None:
    """The built image is not worse than the baseline on this figure (interval wholly past the threshold)."""
    entry = harness_ab.to_report()
    judged = entry["figures"].get(figure) or entry["exact"][figure]
    shown = (
        f"{figure}: {judged['verdict']}, ratio {judged['ratio']} "
        f"(CI {judged.get('ci_low')} to {judged.get('ci_high')}), baseline {judged['baseline']}, "
        f"candidate {judged['candidate']}"
    )
    if figure == THROUGHPUT and harness_ab.client_bound:
        pytest.fail(f"{shown}: not comparable: {judged['note']}", pytrace=False)
    if judged["verdict"] == "regression" and figure not in INFORMATIONAL:
        pytest.fail(f"{shown}: REGRESSION against {harness_ab.baseline.ref}", pytrace=False)
