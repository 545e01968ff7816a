"""Medians, spreads and exact percentiles of repeated measurements."""

from __future__ import annotations

import statistics

import numpy
import pytest

from container_harness.summary import median, percentile, spread


def test_median_of_odd_and_even_counts() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_spread_reports_min_max_and_sample_stdev() -> None:
    values = [0.8, 1.1, 0.9, 1.4]
    result = spread(values)
    assert (result.min, result.max) == (0.8, 1.4)
    assert result.stdev == pytest.approx(statistics.stdev(values))


def test_spread_of_one_value_has_zero_stdev() -> None:
    assert spread([2.5]).to_report() == {"min": 2.5, "max": 2.5, "stdev": 0.0}


@pytest.mark.parametrize(
    ("q", "expected"),
    [(0, 10.0), (50, 25.0), (95, 38.5), (99, 39.7), (100, 40.0)],
)
def test_percentile_interpolates_linearly_between_ranks(q: float, expected: float) -> None:
    # Ranks of [10, 20, 30, 40] sit at 0, 1/3, 2/3, 1: q=95 is 2.85 ranks in, 30 + 0.85 * 10.
    assert percentile([40.0, 10.0, 30.0, 20.0], q) == pytest.approx(expected)


def test_percentile_matches_numpy_default_method() -> None:
    values = [float(v) for v in [7, 1, 13, 2, 2, 9, 30, 4, 5, 11, 6]]
    for q in (1, 10, 33.3, 50, 90, 99):
        assert percentile(values, q) == pytest.approx(float(numpy.percentile(values, q)))


def test_statistics_of_nothing_are_refused() -> None:
    with pytest.raises(ValueError, match="no values"):
        median([])
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_percentile_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], 101)
