"""container-harness: builds, inspects, runs, measures and load-tests container images, as a library, a pytest
plugin and the `container-harness` command.

The public names below are imported on first use, so loading the pytest plugin stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from container_harness.build.timer import BuildRun, BuildTimings, build_image, time_builds
    from container_harness.config import HarnessConfig, image_spec, load_config, run_spec
    from container_harness.engine import connect
    from container_harness.errors import (
        BaseImageMissingError,
        BudgetFileError,
        BuildError,
        CleanupError,
        ConfigError,
        ContainerExitedError,
        EngineUnavailableError,
        GateInputError,
        HarnessError,
        ImageError,
        LoadRunError,
        ReadinessTimeoutError,
    )
    from container_harness.gate.baseline import compare, load_tolerances
    from container_harness.gate.budgets import Budget, evaluate, load_budgets
    from container_harness.image.inspect import ImageFacts, inspect_image
    from container_harness.load.runner import LoadResult, run_load
    from container_harness.measure.usage_sampler import StatsSampler, idle_stats
    from container_harness.ownership import EngineSession, new_session
    from container_harness.report.results import Results
    from container_harness.run.container import RunningContainer, start_container
    from container_harness.specs import ImageSpec, LoadSpec, RunSpec

__version__ = "0.2.0"

# Public name -> the module that defines it, in pipeline order.
_EXPORTS = {
    "HarnessConfig": "config", "load_config": "config", "image_spec": "config", "run_spec": "config",
    "ImageSpec": "specs", "RunSpec": "specs", "LoadSpec": "specs",
    "connect": "engine", "EngineSession": "ownership", "new_session": "ownership",
    "build_image": "build.timer", "time_builds": "build.timer", "BuildRun": "build.timer",
    "BuildTimings": "build.timer",
    "ImageFacts": "image.inspect", "inspect_image": "image.inspect",
    "RunningContainer": "run.container", "start_container": "run.container",
    "StatsSampler": "measure.usage_sampler", "idle_stats": "measure.usage_sampler",
    "LoadResult": "load.runner", "run_load": "load.runner",
    "Budget": "gate.budgets", "evaluate": "gate.budgets", "load_budgets": "gate.budgets",
    "compare": "gate.baseline", "load_tolerances": "gate.baseline",
    "Results": "report.results",
    "HarnessError": "errors", "ConfigError": "errors", "BudgetFileError": "errors", "GateInputError": "errors",
    "EngineUnavailableError": "errors", "BaseImageMissingError": "errors", "BuildError": "errors",
    "ContainerExitedError": "errors", "ReadinessTimeoutError": "errors", "LoadRunError": "errors",
    "ImageError": "errors", "CleanupError": "errors",
}  # fmt: skip

__all__ = [
    "BaseImageMissingError",
    "Budget",
    "BudgetFileError",
    "BuildError",
    "BuildRun",
    "BuildTimings",
    "CleanupError",
    "ConfigError",
    "ContainerExitedError",
    "EngineSession",
    "EngineUnavailableError",
    "GateInputError",
    "HarnessConfig",
    "HarnessError",
    "ImageError",
    "ImageFacts",
    "ImageSpec",
    "LoadResult",
    "LoadRunError",
    "LoadSpec",
    "ReadinessTimeoutError",
    "Results",
    "RunSpec",
    "RunningContainer",
    "StatsSampler",
    "__version__",
    "build_image",
    "compare",
    "connect",
    "evaluate",
    "idle_stats",
    "image_spec",
    "inspect_image",
    "load_budgets",
    "load_config",
    "load_tolerances",
    "new_session",
    "run_load",
    "run_spec",
    "start_container",
    "time_builds",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'container_harness' has no attribute {name!r}")
    return getattr(importlib.import_module(f"container_harness.{module}"), name)
