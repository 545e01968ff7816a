"""The built-in checks: what each needs, what it records, when the configuration supports it, and their order.

Order comes from declared needs (a check runs after the checks it needs), ties broken by pipeline stage, so
no import order or `__all__` decides it. A check whose need failed is skipped as "blocked by" that need.
"""

from __future__ import annotations

import fnmatch
import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from container_harness.config import HarnessConfig
from container_harness.errors import ConfigError
from container_harness.pytest_plugin import ab_checks, checks, load_checks

Stage = Literal["build", "inspect", "run", "measure", "load", "budgets"]
STAGES: tuple[Stage, ...] = ("build", "inspect", "run", "measure", "load", "budgets")

# None when the configuration supports the check, else what it lacks.
Support = Callable[[HarnessConfig], str | None]


def _always(config: HarnessConfig) -> str | None:
    return None


@dataclass(frozen=True)
class Check:
    """One built-in check: its test function, stage, the checks it needs and the figures it records."""

    name: str
    function: Callable[..., None]
    stage: Stage
    needs: tuple[str, ...] = ()
    records: tuple[str, ...] = ()
    support: Support = _always

    def unsupported_because(self, config: HarnessConfig) -> str | None:
        """What the configuration lacks for this check, or None."""
        return self.support(config)

    def records_figure(self, name: str) -> bool:
        """Whether this check records the figure `name` (a dotted name or a glob like `build.*_s`); a record may
        itself be a glob, for figures named after what the run met (`load.endpoints.*`)."""
        return any(
            fnmatch.fnmatchcase(recorded, name) or fnmatch.fnmatchcase(name, recorded) for recorded in self.records
        )


_BUILD = (
    "build.builder", "build.buildx_version", "build.buildkit_version", "build.full_s", "build.cached_s",
    "build.exporter", "build.context_transfer", "build.steps",
    "build.runs", "build.build_args", "build.base_image", "build.context_files", "build.context_bytes",
    "build.context_suspicious",
)  # fmt: skip
_IMAGE = tuple(
    f"image.{key}"
    for key in (
        "tag", "id", "size_bytes", "base_image", "base_size_bytes", "above_base_bytes", "layers", "user",
        "exposed_ports", "env", "healthcheck", "cmd", "entrypoint", "labels",
    )
)  # fmt: skip
_BOUND = (
    "cpu_saturation", "generator_cpu_percent", "proxy_cpu_percent", "machine_busy", "limited_by",
    "master_cpu_percent", "workers.*", "processes", "generators_needed",
)  # fmt: skip
_LOAD = (
    "load.duration_s", "load.requests", "load.recorded_requests", "load.failures", "load.rps", "load.p50_ms",
    "load.p90_ms", "load.p95_ms", "load.p99_ms", "load.max_ms", "load.endpoints.*", "load.users", "load.warmup_s",
    "load.cpuset",
    "load.proxy_pinned", "load.histogram", "load.latency_over_time", "memory.load_peak_bytes", "cpu.load_percent",
    "load.health_rps", "load.health_p50_ms", "load.health_failures", "load.scenario_to_health_ratio",
    *(f"load.{name}" for name in _BOUND), *(f"load.health_{name}" for name in _BOUND),
)  # fmt: skip


def _needs_code_change_path(config: HarnessConfig) -> str | None:
    return None if config.code_change_path else "code_change_path is not set"


def _needs_dependency_change_path(config: HarnessConfig) -> str | None:
    return None if config.dependency_change_path else "dependency_change_path is not set"


def _needs_files(config: HarnessConfig) -> str | None:
    return None if config.expect.files else "expect.files is empty"


def _needs_absent_globs(config: HarnessConfig) -> str | None:
    return None if config.expect.absent_globs else "expect.absent_globs is empty"


def _needs_unhealthy(config: HarnessConfig) -> str | None:
    return None if config.unhealthy is not None else "there is no [unhealthy] table"


def _needs_volume(config: HarnessConfig) -> str | None:
    return None if config.volume is not None else "there is no [volume] table"


def _needs_load(config: HarnessConfig) -> str | None:
    if not config.load.enabled:
        return "load.enabled is false"
    return None if config.load.locustfile else "load.locustfile is not set"


def _needs_curve(config: HarnessConfig) -> str | None:
    return _needs_load(config) or (None if config.load.curve else "load.curve is false")


def _needs_ab_baseline(config: HarnessConfig) -> str | None:
    return None if config.ab.baseline else "no A/B baseline (--harness-ab-baseline IMAGE or ab.baseline)"


def _needs_budgets(config: HarnessConfig) -> str | None:
    return None if config.budgets else "budgets (a budgets TOML file) is not set"


BUILTIN: tuple[Check, ...] = (
    Check("full_build", checks.full_build, "build", records=_BUILD),
    Check("cached_rebuild", checks.cached_rebuild, "build", needs=("full_build",)),
    Check(
        "code_change_rebuild",
        checks.code_change_rebuild,
        "build",
        needs=("full_build",),
        records=("build.code_change_s", "build.code_change_rebuilt_steps"),
        support=_needs_code_change_path,
    ),
    Check(
        "dependency_change_rebuild",
        checks.dependency_change_rebuild,
        "build",
        needs=("full_build",),
        records=("build.dependency_change_s", "build.dependency_change_rebuilt_steps"),
        support=_needs_dependency_change_path,
    ),
    Check("image_size", checks.image_size, "inspect", needs=("full_build",), records=_IMAGE),
    Check("image_config", checks.image_config, "inspect", needs=("full_build",)),
    Check("required_files", checks.required_files, "inspect", needs=("full_build",), support=_needs_files),
    Check(
        "forbidden_paths", checks.forbidden_paths, "inspect", needs=("full_build",), support=_needs_absent_globs
    ),
    Check(
        "wasted_bytes",
        checks.wasted_bytes,
        "inspect",
        needs=("full_build",),
        records=("image.wasted_bytes", "image.wasted_files"),
    ),
    Check(
        "startup",
        checks.startup,
        "run",
        needs=("full_build",),
        records=("startup.ready_s", "startup.ready_median_s", "startup.ready_spread_s"),
    ),
    Check(
        "docker_health",
        checks.docker_health,
        "run",
        needs=("startup",),
        records=("startup.healthy_s", "startup.health_interval_s", "startup.image_health_interval_s"),
    ),
    Check(
        "unhealthy_config",
        checks.unhealthy_config,
        "run",
        needs=("full_build",),
        records=("startup.unhealthy_s",),
        support=_needs_unhealthy,
    ),
    Check(
        "volume_override",
        checks.volume_override,
        "run",
        needs=("startup",),
        records=("volume.target", "volume.mounted_answer", "volume.default_answer"),
        support=_needs_volume,
    ),
    Check(
        "idle_usage",
        checks.idle_usage,
        "measure",
        needs=("startup",),
        records=(
            "memory.idle_bytes", "cpu.idle_percent", "memory.idle_samples", "memory.idle_started_after_ready_s"
        ),
    ),
    Check("load", load_checks.load, "load", needs=("startup",), records=_LOAD, support=_needs_load),
    Check(
        "load_curve",
        load_checks.load_curve,
        "load",
        needs=("startup",),
        records=("load.curve", "load.curve_png"),
        support=_needs_curve,
    ),
    Check("ab", ab_checks.ab, "load", needs=("startup",), records=("ab.*",), support=_needs_ab_baseline),
    Check("budgets", checks.budgets, "budgets", support=_needs_budgets),
)

BY_NAME = {check.name: check for check in BUILTIN}


def ordered(selected: Iterable[Check]) -> list[Check]:
    """The checks in an order that honours their needs, then the pipeline's stages, then declaration."""
    chosen = {check.name: check for check in selected}
    rank = {check.name: (STAGES.index(check.stage), index) for index, check in enumerate(BUILTIN)}
    waiting = {name: {need for need in check.needs if need in chosen} for name, check in chosen.items()}
    ready = [(rank[name], name) for name, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    order: list[Check] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(chosen[name])
        for other, needs in waiting.items():
            if name in needs:
                needs.discard(name)
                if not needs:
                    heapq.heappush(ready, (rank[other], other))
    if len(order) != len(chosen):
        raise ValueError(f"checks that need each other: {sorted(set(chosen) - {c.name for c in order})}")
    return order


def select(config: HarnessConfig, names: Sequence[str] | None) -> list[Check]:
    """The checks to run, in order: the named ones (all of them must be supported), else every supported one."""
    if names is None:
        return ordered(check for check in BUILTIN if check.unsupported_because(config) is None)
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise ConfigError(
            f"unknown check(s) {', '.join(unknown)}; the built-in checks are: {', '.join(BY_NAME)}",
            hint="fix the names in [tool.harness] checks or --harness-checks",
        )
    problems = [
        f"{name}: {reason}"
        for name in names
        if (reason := BY_NAME[name].unsupported_because(config)) is not None
    ]
    if problems:
        raise ConfigError(
            "the configuration cannot run the selected check(s): " + "; ".join(problems),
            hint="add the missing settings, or leave those checks out of the selection",
        )
    return ordered(BY_NAME[name] for name in dict.fromkeys(names))


def recording(figure: str) -> Check | None:
    """The built-in check that records a figure (or a glob of figures), if any."""
    return next((check for check in BUILTIN if check.records_figure(figure)), None)
