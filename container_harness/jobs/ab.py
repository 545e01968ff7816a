"""Same-run A/B on the engine: both images measured in alternating (ABBA) rounds with identical settings.

Each round, each side: `starts_per_round` cold starts timed to the first 2xx, idle memory and CPU of the last
one, then one short Locust run against it with the configured scenario, pinning, warm-up and environment.
Round r runs baseline first when r is even and candidate first when odd (A B B A A B …), so a linear drift
of the machine weighs on both sides equally. Judging is pure (container_harness.gate.ab_result).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from docker.errors import ImageNotFound

from container_harness.config import HarnessConfig, load_pinning, load_spec, run_spec
from container_harness.engine import engine_facts
from container_harness.errors import AbInputError
from container_harness.gate.ab_result import ROLES, AbResult, AbRounds, ImageSide, Role, RoundValues, judge_rounds
from container_harness.gate.ab_stats import Settings
from container_harness.image.inspect import inspect_image
from container_harness.load.bounded import choose_processes
from container_harness.load.runner import run_load
from container_harness.measure.usage import cpu_capacity, limited_by
from container_harness.measure.usage_sampler import StatsSampler, idle_stats
from container_harness.ownership import EngineSession
from container_harness.run.container import start_container
from container_harness.specs import AUTO_PROCESSES, LoadSpec, RunSpec
from container_harness.summary import median

Progress = Callable[[str], None]


@dataclass(frozen=True)
class AbPlan:
    """What both sides run with: one run spec, one load spec, the rounds and the tolerance."""

    run: RunSpec
    load: LoadSpec
    rounds: int
    starts_per_round: int
    idle_seconds: float
    settings: Settings


def plan_of(config: HarnessConfig, rounds: int | None = None, threshold: float | None = None) -> AbPlan:
    """The A/B plan from the harness configuration through config's own mappings ([run], [load], then [ab]'s
    short runs and Locust environment); options override rounds and threshold."""
    load, ab = config.load, config.ab
    if not load.locustfile:
        raise AbInputError("the A/B load run needs a locustfile: set [tool.harness.load] locustfile")
    locustfile = config.path(load.locustfile)
    if not locustfile.is_file():
        raise AbInputError(f"the configured locustfile {locustfile} does not exist")
    settings = Settings(
        threshold=ab.threshold if threshold is None else threshold,
        max_ci_width=ab.max_ci_width,
        confidence=ab.confidence,
    )
    return AbPlan(
        run=run_spec(config, **load_pinning(config)),
        load=replace(
            load_spec(config, dict(ab.locust_env)),
            duration_s=ab.load_duration_s,
            warmup_s=ab.load_warmup_s,
        ),
        rounds=ab.rounds if rounds is None else rounds,
        starts_per_round=ab.starts_per_round,
        idle_seconds=ab.idle_seconds,
        settings=settings,
    )


def run_settings(config: HarnessConfig) -> dict[str, Any]:
    """The settings both sides must share, [run] and [load], as dotted keys ([ab] is the gate's, one for both)."""
    tables = {"run": config.run.model_dump(), "load": config.load.model_dump()}
    return {f"{table}.{key}": value for table, values in tables.items() for key, value in values.items()}


def require_same_run_settings(baseline: HarnessConfig, candidate: HarnessConfig, where: str) -> None:
    """AbInputError naming every run setting that differs: measured under other settings, a ratio means nothing."""
    base, cand = run_settings(baseline), run_settings(candidate)
    differing = [key for key in sorted(base.keys() | cand.keys()) if base.get(key) != cand.get(key)]
    if differing:
        lines = "\n".join(f"    {key}: baseline {base.get(key)!r}, candidate {cand.get(key)!r}" for key in differing)
        raise AbInputError(
            f"the run settings differ between the two sides ({where}):\n{lines}",
            hint="compare under one configuration: align [tool.harness.run] and [tool.harness.load] on both sides",
        )


def image_side(session: EngineSession, ref: str, role: Role) -> ImageSide:
    """The image's id, size and layer count; AbInputError (exit 2) when it is not on the engine."""
    try:
        session.client.images.get(ref)
    except ImageNotFound as exc:
        raise AbInputError(
            f"the {role} image {ref} is not on the engine",
            hint="build or load it first (the harness never pulls), or check the tag",
        ) from exc
    facts = inspect_image(session.client, ref, None)
    return ImageSide(ref=ref, id=facts.id, size_bytes=facts.size_bytes, layers=len(facts.layers))


def run_ab(
    session: EngineSession, plan: AbPlan, baseline_ref: str, candidate_ref: str, out_dir: Path, progress: Progress
) -> AbResult:
    """Measure both images in ABBA rounds and judge every figure."""
    started = time.monotonic()
    sides = {"baseline": image_side(session, baseline_ref, "baseline")}
    sides["candidate"] = image_side(session, candidate_ref, "candidate")
    for role in ROLES:  # one unmeasured start each: first-use costs (page cache) land on neither side's rounds
        with start_container(session, sides[role].ref, plan.run) as running:
            if plan.load.processes == AUTO_PROCESSES:  # chosen once, on the baseline, and kept for both sides
                plan = replace(plan, load=choose_processes(running, plan.load, out_dir / "auto", session))
                progress(f"load.processes auto: {plan.load.processes} on the {role}")
            progress(f"warm-up start of the {role} done")
    rounds = AbRounds()
    for number in range(plan.rounds):
        order = ROLES if number % 2 == 0 else ROLES[::-1]
        for role in order:
            values = measure_round(session, plan, sides[role].ref, out_dir / f"round{number + 1}-{role}")
            rounds.add(role, values)
            shown = ", ".join(f"{key} {value:.4g}" for key, value in values.values.items())
            progress(f"round {number + 1}/{plan.rounds} {role}: {shown} ({values.limited_by}-bound)")
    environment = {
        **engine_facts(session.client),
        "run_cpuset": plan.run.cpuset,
        "locust_cpuset": plan.load.cpuset,
        "users": plan.load.users,
        "load_processes": plan.load.processes,
        "load_duration_s": plan.load.duration_s,
        "load_warmup_s": plan.load.warmup_s,
        "starts_per_round": plan.starts_per_round,
        "idle_seconds": plan.idle_seconds,
        "wall_s": round(time.monotonic() - started, 1),
    }
    return judge_rounds(rounds, sides["baseline"], sides["candidate"], plan.settings, environment)


def measure_round(session: EngineSession, plan: AbPlan, image_ref: str, out_dir: Path) -> RoundValues:
    """One side's round: timed starts, idle stats of the last container, one load run against it."""
    ready: list[float] = []
    for _ in range(plan.starts_per_round - 1):
        with start_container(session, image_ref, plan.run) as running:
            ready.append(running.ready_s or 0.0)
    with start_container(session, image_ref, plan.run) as running:
        ready.append(running.ready_s or 0.0)
        idle = idle_stats(running.container, plan.idle_seconds)
        with StatsSampler(running.container, f"load-testing it with {plan.load.locustfile.name}") as sampler:
            load = run_load(plan.load, running.url(), out_dir, engine=session)
        running.container.reload()
        cpus = cpu_capacity(running.container.attrs["HostConfig"], session.client.info()["NCPU"])
    if load.failures:
        raise AbInputError(
            f"{load.failures} of {image_ref}'s requests failed in the A/B load run (see {load.log_path}): "
            "a failing service has no comparable speed"
        )
    # The busiest second, not the median: in a run of a few seconds, Locust's own start-up seconds (an idle
    # service) are among the samples and would make every short run look bound by its client.
    busiest = max((cpu for _, _, cpu in sampler.samples), default=0.0)
    saturation = busiest / (100.0 * cpus)
    return RoundValues(
        values={
            "startup.ready_s": median(ready),
            "memory.idle_bytes": float(idle.memory_bytes),
            "cpu.idle_percent": idle.cpu_percent,
            "load.rps": load.rps,
            "load.p50_ms": load.p50_ms,
            "load.p95_ms": load.p95_ms,
            "load.p99_ms": load.p99_ms,
        },
        limited_by=limited_by(saturation),
        cpu_saturation=saturation,
    )
