"""The latency-throughput curve: the service's capacity, then paced arrival rates at fractions of it.

Capacity is the closed-loop maximum (the configured users, back to back). Each point then holds a fixed
arrival rate with Locust's users paced by the recorder's schedule, latency counted from each request's
intended start (so a stall is not hidden: coordinated omission). The knee is the highest offered rate whose p99
stays within the limit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from container_harness.load.bounded import BoundedRun, bounded_run
from container_harness.run.container import RunningContainer
from container_harness.specs import LoadSpec

# Without a configured limit the knee is where p99 exceeds this multiple of the lightest load's p99.
DEFAULT_KNEE_FACTOR = 3.0
# Paced users: enough to hold the rate while responses take longer than at capacity (Little's law's slack).
_PACED_USERS_FACTOR = 2
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CurvePoint:
    """One offered rate and what the service did at it."""

    fraction: float
    offered_rps: float
    achieved_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    requests: int
    container_cpu_percent: float
    machine_busy: float | None
    limited_by: str

    def to_report(self) -> dict[str, Any]:
        """JSON-ready figures, rounded."""
        return {
            "fraction": self.fraction,
            "offered_rps": round(self.offered_rps, 1),
            "achieved_rps": round(self.achieved_rps, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p95_ms": round(self.p95_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "errors": self.errors,
            "requests": self.requests,
            "container_cpu_percent": round(self.container_cpu_percent, 1),
            "machine_busy": None if self.machine_busy is None else round(self.machine_busy, 3),
            "limited_by": self.limited_by,
        }


@dataclass(frozen=True)
class Curve:
    """The closed-loop capacity run, the paced points and the knee."""

    capacity: BoundedRun
    points: list[CurvePoint]
    p99_limit_ms: float
    knee: CurvePoint | None

    def to_report(self) -> dict[str, Any]:
        """JSON-ready: capacity, the points, the limit and the knee's offered rate."""
        return {
            "capacity_rps": round(self.capacity.result.rps, 1),
            "capacity_users": self.capacity.result.users,
            "capacity_p99_ms": round(self.capacity.result.p99_ms, 3),
            "capacity_limited_by": self.capacity.limited_by,
            "capacity_machine_busy": self.capacity.host_busy,
            "p99_limit_ms": round(self.p99_limit_ms, 3),
            "knee_rps": None if self.knee is None else round(self.knee.offered_rps, 1),
            "knee_fraction": None if self.knee is None else self.knee.fraction,
            "points": [point.to_report() for point in self.points],
        }


def knee(points: Sequence[CurvePoint], p99_limit_ms: float) -> CurvePoint | None:
    """The highest offered rate whose p99 is within the limit and below which every rate was too (pure)."""
    found = None
    for point in sorted(points, key=lambda p: p.offered_rps):
        if point.p99_ms > p99_limit_ms:
            break
        found = point
    return found


def run_curve(
    running: RunningContainer,
    spec: LoadSpec,
    out_dir: Path,
    *,
    fractions: Sequence[float],
    p99_limit_ms: float | None = None,
    pin_proxy: bool = False,
) -> Curve:
    """Capacity with spec's closed loop, then one paced run per fraction of it; results under out_dir."""
    _log.info("curve: capacity run, %d users closed loop", spec.users)
    capacity = bounded_run(running, spec, out_dir / "capacity", "finding its capacity", pin_proxy=pin_proxy)
    points = []
    for fraction in fractions:
        rate = fraction * capacity.result.rps
        _log.info("curve: %.0f %% of capacity, %.1f req/s", fraction * 100, rate)
        # All users at once: while they spawn the schedule already runs, and a backlog made then never clears.
        users = spec.users * _PACED_USERS_FACTOR
        paced = replace(spec, rate=rate, users=users, spawn_rate=float(users))
        run = bounded_run(
            running, paced, out_dir / f"rate-{fraction:g}", f"holding {rate:.1f} req/s", pin_proxy=pin_proxy
        )
        points.append(
            CurvePoint(
                fraction=fraction,
                offered_rps=rate,
                achieved_rps=run.result.rps,
                p50_ms=run.result.p50_ms,
                p95_ms=run.result.p95_ms,
                p99_ms=run.result.p99_ms,
                errors=run.result.failures,
                requests=run.result.requests,
                container_cpu_percent=run.container_cpu_percent,
                machine_busy=run.host_busy,
                limited_by=run.limited_by,
            )
        )
    lightest = min(points, key=lambda p: p.offered_rps) if points else None
    limit = p99_limit_ms
    if limit is None:
        limit = DEFAULT_KNEE_FACTOR * (lightest.p99_ms if lightest else capacity.result.p99_ms)
    found = knee(points, limit)
    _log.info("curve: knee at %s", "none" if found is None else f"{found.offered_rps:.1f} req/s")
    return Curve(capacity=capacity, points=points, p99_limit_ms=limit, knee=found)
