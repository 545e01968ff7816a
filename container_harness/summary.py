"""Summary statistics of repeated measurements (pure; the standard library's definitions)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """How far repeated measurements lie apart; stdev is 0.0 for a single value."""

    min: float
    max: float
    stdev: float

    def to_report(self) -> dict[str, float]:
        """The spread as a JSON-ready dict."""
        return {"min": self.min, "max": self.max, "stdev": self.stdev}


def median(values: Sequence[float]) -> float:
    """Median of the values (mean of the middle two for an even count)."""
    _require(values)
    return statistics.median(values)


def spread(values: Sequence[float]) -> Spread:
    """Minimum, maximum and sample standard deviation."""
    _require(values)
    stdev = statistics.stdev(values) if len(values) > 1 else 0.0
    return Spread(min=min(values), max=max(values), stdev=stdev)


def percentile(values: Sequence[float], q: float) -> float:
    """Exact q-th percentile (0 to 100) by linear interpolation between closest ranks (NumPy's default)."""
    _require(values)
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _require(values: Sequence[float]) -> None:
    """Statistics of nothing are undefined; say so instead of returning a made-up number."""
    if not values:
        raise ValueError("no values to summarise")
