"""Statistics of a same-run A/B comparison (pure: no Docker, no I/O): ratios, confidence intervals, verdicts.

Each round measures both images once, so a figure gives one candidate/baseline ratio per round. The interval
is a paired Student-t interval on the per-round log ratios: with the 4 to 10 rounds a CI run can afford, a
percentile bootstrap over rounds covers well under its nominal 95 % (it can never be wider than the rounds'
own range), while the t interval on logs is exact for multiplicative (log-normal) noise and is symmetric
in the ratio's scale. The same verdict rules serve the history's step-change test, there with an unpaired
(Welch) interval on the log values of the last N runs against the N before.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Better = Literal["smaller", "bigger"]
Verdict = Literal["regression", "improvement", "same", "inconclusive"]
VERDICTS: tuple[Verdict, ...] = ("regression", "improvement", "same", "inconclusive")
# More rounds than this are not worth suggesting: the figure is too noisy for this machine.
MAX_SUGGESTED_ROUNDS = 200


@dataclass(frozen=True)
class FigureSpec:
    """A judged figure: its name, unit, which direction is better, and the floor below which values are equal.

    The floor is the figure's resolution: values under it count as the floor, so two idle containers at
    0.0 % and 0.3 % CPU compare as equal instead of as an infinite ratio.
    """

    name: str
    unit: str
    better: Better
    floor: float


@dataclass(frozen=True)
class Settings:
    """The gate's tolerance: threshold on the ratio, widest interval that still decides, confidence level."""

    threshold: float = 0.05
    max_ci_width: float = 0.2
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be a fraction within (0, 1), got {self.threshold}")
        if self.max_ci_width <= 0:
            raise ValueError(f"max_ci_width must be positive, got {self.max_ci_width}")
        if not 0.5 <= self.confidence < 1:
            raise ValueError(f"confidence must be within [0.5, 1), got {self.confidence}")


@dataclass(frozen=True)
class Interval:
    """A ratio candidate/baseline with its confidence interval; log_sd is the spread of the log ratios."""

    ratio: float
    low: float
    high: float
    n: int
    log_sd: float

    @property
    def width(self) -> float:
        """Width of the interval in ratio units (0.1 = ten points of the ratio)."""
        return self.high - self.low


@dataclass(frozen=True)
class FigureResult:
    """One figure of an A/B comparison: medians per side, ratio, interval, verdict and why."""

    spec: FigureSpec
    baseline: float
    candidate: float
    interval: Interval | None
    verdict: Verdict
    more_rounds: int | None
    note: str | None
    baseline_rounds: list[float]
    candidate_rounds: list[float]

    def to_report(self) -> dict[str, Any]:
        """The figure as the report's `ab.figures.{name}` entry."""
        interval = self.interval
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "ratio": _rounded(interval.ratio if interval else None),
            "ci_low": _rounded(interval.low if interval else None),
            "ci_high": _rounded(interval.high if interval else None),
            "verdict": self.verdict,
            "unit": self.spec.unit,
            "better": self.spec.better,
            "more_rounds": self.more_rounds,
            "note": self.note,
            "baseline_rounds": list(self.baseline_rounds),
            "candidate_rounds": list(self.candidate_rounds),
        }


@dataclass(frozen=True)
class ExactResult:
    """A figure without noise (image size, layer count): compared value to value, no interval."""

    name: str
    unit: str
    baseline: int
    candidate: int
    verdict: Verdict

    @property
    def ratio(self) -> float | None:
        """candidate / baseline (None when the baseline is 0)."""
        return self.candidate / self.baseline if self.baseline else None

    def to_report(self) -> dict[str, Any]:
        """The figure as the report's `ab.exact.{name}` entry."""
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "ratio": _rounded(self.ratio),
            "difference": self.candidate - self.baseline,
            "verdict": self.verdict,
            "unit": self.unit,
        }


def paired_interval(baseline: Sequence[float], candidate: Sequence[float], confidence: float) -> Interval:
    """Geometric-mean ratio candidate/baseline over paired rounds with a Student-t interval on the log ratios.

    Needs two rounds or more and positive values (apply the figure's floor first).
    """
    if len(baseline) != len(candidate):
        raise ValueError(f"paired rounds differ in number: {len(baseline)} baseline, {len(candidate)} candidate")
    logs = [math.log(c / b) for b, c in zip(_positive(baseline), _positive(candidate), strict=True)]
    return _log_interval(logs, len(logs) - 1, confidence)


def unpaired_interval(before: Sequence[float], after: Sequence[float], confidence: float) -> Interval:
    """Ratio of geometric means after/before with a Welch t interval on the logs (two independent samples)."""
    log_before = [math.log(value) for value in _positive(before)]
    log_after = [math.log(value) for value in _positive(after)]
    if len(log_before) < 2 or len(log_after) < 2:
        raise ValueError("an unpaired interval needs at least two values on each side")
    var_b = statistics.variance(log_before) / len(log_before)
    var_a = statistics.variance(log_after) / len(log_after)
    se = math.sqrt(var_b + var_a)
    centre = statistics.fmean(log_after) - statistics.fmean(log_before)
    if se == 0:
        return Interval(math.exp(centre), math.exp(centre), math.exp(centre), len(log_after), 0.0)
    # Welch-Satterthwaite degrees of freedom.
    dof = se**4 / (var_b**2 / (len(log_before) - 1) + var_a**2 / (len(log_after) - 1))
    half = _t_quantile(confidence, dof) * se
    log_sd = se * math.sqrt(len(log_after))
    return Interval(math.exp(centre), math.exp(centre - half), math.exp(centre + half), len(log_after), log_sd)


def verdict_of(interval: Interval, better: Better, settings: Settings) -> Verdict:
    """regression / improvement when the whole interval lies beyond the threshold, else inconclusive when the
    interval is wider than max_ci_width, else same.

    An interval wholly past the threshold decides even when wide: it cannot be read any other way.
    """
    worse_low, worse_high = _worse_factors(interval.low, interval.high, better)
    if worse_low > 1 + settings.threshold:
        return "regression"
    if worse_high < 1 / (1 + settings.threshold):
        return "improvement"
    if interval.width > settings.max_ci_width:
        return "inconclusive"
    return "same"


def rounds_to_settle(interval: Interval, settings: Settings) -> int | None:
    """How many more paired rounds would bring the interval under max_ci_width, if the spread stays as seen.

    None when even MAX_SUGGESTED_ROUNDS would not (or the spread is unknown from fewer than two rounds).
    """
    if interval.n < 2:
        return None
    for total in range(interval.n + 1, MAX_SUGGESTED_ROUNDS + 1):
        half = _t_quantile(settings.confidence, total - 1) * interval.log_sd / math.sqrt(total)
        if 2 * interval.ratio * math.sinh(half) <= settings.max_ci_width:
            return total - interval.n
    return None


def judge(
    spec: FigureSpec,
    baseline_rounds: Sequence[float],
    candidate_rounds: Sequence[float],
    settings: Settings,
    *,
    not_comparable: str | None = None,
) -> FigureResult:
    """A figure's verdict from its per-round values (floored); not_comparable forces `inconclusive` with that note.

    not_comparable is for figures the run could not measure fairly, e.g. throughput of a load run bound by its
    client: it must never read as `same`.
    """
    base = [max(value, spec.floor) for value in baseline_rounds]
    cand = [max(value, spec.floor) for value in candidate_rounds]
    interval = paired_interval(base, cand, settings.confidence) if len(base) >= 2 else None
    more: int | None = None
    if interval is None:
        verdict: Verdict = "inconclusive"
        more = 2 - len(base)
        note: str | None = "an interval needs two rounds or more"
    elif not_comparable is not None:
        verdict, note = "inconclusive", not_comparable
    else:
        verdict = verdict_of(interval, spec.better, settings)
        note = None
        if verdict == "inconclusive":
            more = rounds_to_settle(interval, settings)
            settle = (
                f"about {more} more round{'s' if more > 1 else ''} would settle it"
                if more
                else "too noisy to settle within reach"
            )
            note = f"interval {interval.width:.3f} wide, over the {settings.max_ci_width:g} limit; {settle}"
    return FigureResult(
        spec=spec,
        baseline=statistics.median(baseline_rounds),
        candidate=statistics.median(candidate_rounds),
        interval=interval,
        verdict=verdict,
        more_rounds=more,
        note=note,
        baseline_rounds=list(baseline_rounds),
        candidate_rounds=list(candidate_rounds),
    )


def judge_exact(name: str, unit: str, baseline: int, candidate: int, threshold: float) -> ExactResult:
    """An exact figure where smaller is better (size, layers): regression past the threshold, improvement below."""
    if baseline <= 0:
        verdict: Verdict = "same" if candidate == baseline else "regression"
    elif candidate > baseline * (1 + threshold):
        verdict = "regression"
    elif candidate < baseline / (1 + threshold):
        verdict = "improvement"
    else:
        verdict = "same"
    return ExactResult(name, unit, baseline, candidate, verdict)


def _log_interval(logs: Sequence[float], dof: int, confidence: float) -> Interval:
    """exp of mean ± t * standard error of log ratios."""
    if len(logs) < 2:
        raise ValueError("an interval needs at least two rounds")
    centre = statistics.fmean(logs)
    sd = statistics.stdev(logs)
    half = _t_quantile(confidence, dof) * sd / math.sqrt(len(logs))
    return Interval(math.exp(centre), math.exp(centre - half), math.exp(centre + half), len(logs), sd)


def _worse_factors(low: float, high: float, better: Better) -> tuple[float, float]:
    """The interval as "how many times worse" (>1 is worse), lowest first."""
    return (low, high) if better == "smaller" else (1 / high, 1 / low)


def _positive(values: Sequence[float]) -> Sequence[float]:
    """The values, or ValueError naming the first that is not positive (a ratio of it is undefined)."""
    for value in values:
        if not value > 0:
            raise ValueError(f"ratios need positive values, got {value!r}; apply the figure's floor first")
    return values


def _rounded(value: float | None) -> float | None:
    """Ratios to 4 decimals for the report."""
    return None if value is None else round(value, 4)


def _t_quantile(confidence: float, dof: float) -> float:
    """Student's t quantile for a two-sided interval (scipy comes with the `load` extra, so it loads here)."""
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2, dof))
