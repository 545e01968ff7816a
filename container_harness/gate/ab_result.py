"""What an A/B run measured per round, and its judgement: figures, verdicts, exit code, the report's `ab` section.

Pure: the runner (container_harness.jobs.ab) fills RoundValues from the engine; everything here is plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from container_harness.exit_codes import EXIT_BAD_INPUT, EXIT_OK, EXIT_REGRESSION
from container_harness.gate.ab_stats import ExactResult, FigureResult, FigureSpec, Settings, judge, judge_exact

Role = Literal["baseline", "candidate"]
ROLES: tuple[Role, Role] = ("baseline", "candidate")
METHOD = "paired Student-t interval on per-round log ratios (ABBA rounds)"

# The judged figures, in report order; floors are each figure's resolution (see FigureSpec).
FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("startup.ready_s", "s", "smaller", floor=0.01),
    FigureSpec("memory.idle_bytes", "bytes", "smaller", floor=8_000_000),
    FigureSpec("cpu.idle_percent", "%", "smaller", floor=1.0),
    FigureSpec("load.rps", "req/s", "bigger", floor=1.0),
    FigureSpec("load.p50_ms", "ms", "smaller", floor=0.1),
    FigureSpec("load.p95_ms", "ms", "smaller", floor=0.1),
    FigureSpec("load.p99_ms", "ms", "smaller", floor=0.1),
)
THROUGHPUT = "load.rps"
# Reported with a verdict but never failing the gate: a layer more or less is a design choice, not a cost.
INFORMATIONAL = frozenset({"image.layers"})


@dataclass(frozen=True)
class RoundValues:
    """One side's figures in one round (ready time is the median of that round's starts)."""

    values: dict[str, float]
    limited_by: str  # "service" or "client" (container_harness.measure.usage.limited_by)
    cpu_saturation: float


@dataclass(frozen=True)
class ImageSide:
    """An image under comparison: the reference given, its id, size and layer count."""

    ref: str
    id: str
    size_bytes: int
    layers: int


@dataclass
class AbRounds:
    """Both sides' per-round values, in the order the rounds ran."""

    baseline: list[RoundValues] = field(default_factory=list)
    candidate: list[RoundValues] = field(default_factory=list)

    def add(self, role: Role, values: RoundValues) -> None:
        """Append one side's values of a round."""
        getattr(self, role).append(values)

    def client_bound(self) -> list[str]:
        """ "baseline round 2" … for every load run the client bounded."""
        return [
            f"{role} round {number} (CPU saturation {values.cpu_saturation:.2f})"
            for role in ROLES
            for number, values in enumerate(getattr(self, role), start=1)
            if values.limited_by == "client"
        ]


@dataclass(frozen=True)
class AbResult:
    """The judgement of an A/B run, and everything the report needs."""

    baseline: ImageSide
    candidate: ImageSide
    settings: Settings
    rounds: int
    figures: list[FigureResult]
    exact: list[ExactResult]
    client_bound: list[str]
    environment: dict[str, Any]
    cpu_saturation: dict[str, list[float]]

    @property
    def regressions(self) -> list[str]:
        """Names of the figures judged `regression` (exact figures included, informational ones not)."""
        judged: list[FigureResult | ExactResult] = [*self.figures, *self.exact]
        return [_name(item) for item in judged if item.verdict == "regression" and _name(item) not in INFORMATIONAL]

    @property
    def exit_code(self) -> int:
        """2 when a load run was bound by its client (the comparison is not valid), 1 on a regression, else 0."""
        if self.client_bound:
            return EXIT_BAD_INPUT
        return EXIT_REGRESSION if self.regressions else EXIT_OK

    def to_report(self) -> dict[str, Any]:
        """The report's `ab` section."""
        return {
            "baseline": vars(self.baseline),
            "candidate": vars(self.candidate),
            "rounds": self.rounds,
            "threshold": self.settings.threshold,
            "max_ci_width": self.settings.max_ci_width,
            "confidence": self.settings.confidence,
            "method": METHOD,
            "figures": {item.spec.name: item.to_report() for item in self.figures},
            "exact": {item.name: item.to_report() for item in self.exact},
            "client_bound": list(self.client_bound),
            "cpu_saturation": {role: list(values) for role, values in self.cpu_saturation.items()},
            "regressions": self.regressions,
            "exit_code": self.exit_code,
            "environment": dict(self.environment),
        }


def judge_rounds(
    rounds: AbRounds,
    baseline: ImageSide,
    candidate: ImageSide,
    settings: Settings,
    environment: dict[str, Any],
) -> AbResult:
    """Every figure's verdict; throughput is `inconclusive` when any load run on either side was client-bound."""
    client_bound = rounds.client_bound()
    not_comparable = (
        f"bound by the client, not the service, in {'; '.join(client_bound)}: the throughput is the load "
        "generator's; give the container fewer CPUs or Locust more users or processes"
        if client_bound
        else None
    )
    figures = [
        judge(
            spec,
            [values.values[spec.name] for values in rounds.baseline],
            [values.values[spec.name] for values in rounds.candidate],
            settings,
            not_comparable=not_comparable if spec.name == THROUGHPUT else None,
        )
        for spec in FIGURES
    ]
    exact = [
        judge_exact("image.size_bytes", "bytes", baseline.size_bytes, candidate.size_bytes, settings.threshold),
        judge_exact("image.layers", "layers", baseline.layers, candidate.layers, settings.threshold),
    ]
    return AbResult(
        baseline=baseline,
        candidate=candidate,
        settings=settings,
        rounds=len(rounds.baseline),
        figures=figures,
        exact=exact,
        client_bound=client_bound,
        environment=environment,
        cpu_saturation={
            role: [round(values.cpu_saturation, 3) for values in getattr(rounds, role)] for role in ROLES
        },
    )


def _name(item: FigureResult | ExactResult) -> str:
    """A judged figure's dotted name."""
    return item.spec.name if isinstance(item, FigureResult) else item.name
