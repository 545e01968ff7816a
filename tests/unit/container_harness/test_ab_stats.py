"""The A/B statistics: intervals, verdicts per direction, rounds to settle, exact figures, client-bound runs."""

from __future__ import annotations

import math
import random

import numpy
import pytest

from container_harness.gate.ab_stats import (
    Better,
    FigureSpec,
    Interval,
    Settings,
    judge,
    judge_exact,
    paired_interval,
    rounds_to_settle,
    unpaired_interval,
    verdict_of,
)

P95 = FigureSpec("load.p95_ms", "ms", "smaller", floor=0.1)
RPS = FigureSpec("load.rps", "req/s", "bigger", floor=1.0)
CPU = FigureSpec("cpu.idle_percent", "%", "smaller", floor=1.0)
SETTINGS = Settings(threshold=0.05, max_ci_width=0.2)


def _noisy(centre: float, n: int, sd: float, seed: int) -> list[float]:
    """n values with multiplicative (log-normal) noise of spread sd around centre."""
    rng = random.Random(seed)
    return [centre * math.exp(rng.gauss(0, sd)) for _ in range(n)]


def test_identical_rounds_give_ratio_one_with_zero_width() -> None:
    interval = paired_interval([10.0, 12.0, 11.0], [10.0, 12.0, 11.0], 0.95)
    assert (interval.ratio, interval.low, interval.high) == (1.0, 1.0, 1.0)
    assert judge(P95, [10.0, 12.0, 11.0], [10.0, 12.0, 11.0], SETTINGS).verdict == "same"


def test_interval_is_the_t_interval_of_the_log_ratios() -> None:
    baseline = [10.0, 10.0, 10.0, 10.0]
    candidate = [11.0, 12.0, 11.5, 12.5]
    logs = [math.log(c / b) for b, c in zip(baseline, candidate, strict=True)]
    mean = sum(logs) / 4
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / 3)
    half = 3.182446305284263 * sd / 2  # t(0.975, 3 degrees of freedom)
    interval = paired_interval(baseline, candidate, 0.95)
    assert interval.ratio == pytest.approx(math.exp(mean))
    assert interval.low == pytest.approx(math.exp(mean - half))
    assert interval.high == pytest.approx(math.exp(mean + half))


def test_slower_latency_is_a_regression_and_faster_an_improvement() -> None:
    baseline = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8]
    slower = [b * 1.2 for b in baseline]
    faster = [b / 1.2 for b in baseline]
    assert judge(P95, baseline, slower, SETTINGS).verdict == "regression"
    assert judge(P95, baseline, faster, SETTINGS).verdict == "improvement"


def test_direction_is_reversed_for_throughput() -> None:
    baseline = [1000.0, 1010.0, 990.0, 1005.0]
    assert judge(RPS, baseline, [b * 0.8 for b in baseline], SETTINGS).verdict == "regression"
    assert judge(RPS, baseline, [b * 1.2 for b in baseline], SETTINGS).verdict == "improvement"


def test_a_change_within_the_threshold_is_same() -> None:
    baseline = [10.0, 10.1, 9.9, 10.0, 10.05, 9.95]
    result = judge(P95, baseline, [b * 1.03 for b in baseline], SETTINGS)
    assert result.verdict == "same"
    assert result.interval is not None
    assert result.interval.ratio == pytest.approx(1.03)


def test_noisy_sides_within_the_threshold_are_same_with_an_interval_of_real_width() -> None:
    result = judge(P95, _noisy(10.0, 10, 0.02, seed=6), _noisy(10.0, 10, 0.02, seed=7), SETTINGS)
    assert result.verdict == "same"
    assert result.interval is not None
    assert 0.02 < result.interval.width < SETTINGS.max_ci_width
    assert result.note is None
    assert result.more_rounds is None


def test_an_interval_straddling_the_threshold_is_same_when_narrow_and_inconclusive_when_wide() -> None:
    # Today's rule: an interval not wholly past the threshold is `same` if it is within max_ci_width.
    narrow = paired_interval([10.0] * 4, [10.2, 10.9, 10.4, 11.0], 0.95)
    assert narrow.low < 1.05 < narrow.high
    assert narrow.width < SETTINGS.max_ci_width
    assert verdict_of(narrow, "smaller", SETTINGS) == "same"
    wide = paired_interval([10.0] * 4, [9.6, 11.6, 10.0, 12.0], 0.95)
    assert wide.low < 1.05 < wide.high
    assert wide.width > SETTINGS.max_ci_width
    assert verdict_of(wide, "smaller", SETTINGS) == "inconclusive"


def _interval(low: float, high: float) -> Interval:
    """An interval with the given bounds (ratio at their geometric middle); verdict_of reads only the bounds."""
    return Interval(math.sqrt(low * high), low, high, n=6, log_sd=0.05)


@pytest.mark.parametrize(
    ("low", "high", "better", "verdict"),
    [
        # Wholly past the threshold, and exactly on it (the threshold itself is not past it).
        (1.06, 1.10, "smaller", "regression"),
        (1.05, 1.10, "smaller", "same"),
        (0.90, 0.94, "smaller", "improvement"),
        (0.90, 1 / 1.05, "smaller", "same"),
        # Wholly below 1 but within the threshold: neither an improvement nor a regression.
        (0.96, 0.99, "smaller", "same"),
        (1.01, 1.04, "smaller", "same"),
        # Throughput reads the other way round.
        (0.90, 0.94, "bigger", "regression"),
        (1 / 1.05, 1.10, "bigger", "same"),
        (1.06, 1.10, "bigger", "improvement"),
        (0.90, 1.05, "bigger", "same"),
        (1.01, 1.04, "bigger", "same"),
        # Wide and straddling 1 in either direction: inconclusive, never a verdict from one bound.
        (0.90, 1.20, "bigger", "inconclusive"),
        (0.85, 1.12, "smaller", "inconclusive"),
    ],
)
def test_verdict_edges(low: float, high: float, better: Better, verdict: str) -> None:
    assert verdict_of(_interval(low, high), better, SETTINGS) == verdict


def test_max_ci_width_is_the_limit_itself_neither_more_nor_less() -> None:
    settings = Settings(threshold=0.05, max_ci_width=0.125)  # binary-exact, so the edge is exact
    assert _interval(0.875, 1.0).width == settings.max_ci_width
    assert verdict_of(_interval(0.875, 1.0), "smaller", settings) == "same"
    assert verdict_of(_interval(0.875, 1.0 + 2**-20), "smaller", settings) == "inconclusive"
    # Half the limit and twice it: a limit read as doubled or halved gets one of these wrong.
    assert verdict_of(_interval(0.95, 1.02), "smaller", settings) == "same"
    assert verdict_of(_interval(0.97, 1.04), "smaller", Settings(max_ci_width=0.07 + 1e-9)) == "same"
    assert verdict_of(_interval(0.97, 1.04), "smaller", Settings(max_ci_width=0.07 - 1e-9)) == "inconclusive"
    assert verdict_of(_interval(0.90, 1.04), "smaller", Settings(max_ci_width=0.1)) == "inconclusive"


def test_wide_interval_is_inconclusive_and_says_how_many_rounds_settle_it() -> None:
    baseline = _noisy(10.0, 4, 0.15, seed=1)
    candidate = _noisy(10.0, 4, 0.15, seed=2)
    result = judge(P95, baseline, candidate, SETTINGS)
    assert result.verdict == "inconclusive"
    assert result.interval is not None
    assert result.interval.width > SETTINGS.max_ci_width
    assert result.more_rounds is not None
    assert result.more_rounds > 0
    assert f"about {result.more_rounds} more rounds" in (result.note or "")


def test_one_more_round_is_worded_in_the_singular() -> None:
    spread = 0.07 / math.sqrt(4 / 3)  # log ratios +-spread: a log sd of 0.07, which one more round settles
    candidate = [10.0 * math.exp(spread * sign) for sign in (1, -1, 1, -1)]
    result = judge(P95, [10.0] * 4, candidate, SETTINGS)
    assert result.verdict == "inconclusive"
    assert result.more_rounds == 1
    assert (result.note or "").endswith("limit; about 1 more round would settle it")


@pytest.mark.parametrize(
    "interval",
    [
        paired_interval([10.0] * 4, [9.0, 11.0, 9.5, 10.8], 0.95),
        Interval(1.0, 0.9, 1.12, n=4, log_sd=0.07),  # one more round settles it
        Interval(2.0, 1.8, 2.3, n=2, log_sd=0.03),  # two rounds, and a ratio far from 1
        Interval(1.0, 0.6, 1.6, n=3, log_sd=0.7159),  # settles at MAX_SUGGESTED_ROUNDS (200) exactly
    ],
    ids=["measured", "one-more", "two-rounds-ratio-2", "near-the-cap"],
)
def test_the_suggested_rounds_do_settle_it_when_the_spread_stays(interval: Interval) -> None:
    more = rounds_to_settle(interval, SETTINGS)
    assert more is not None
    total = interval.n + more
    # The same spread over `total` rounds gives an interval within the limit, and one round fewer does not.
    from scipy import stats

    def width(n: int) -> float:
        half = stats.t.ppf(0.975, n - 1) * interval.log_sd / math.sqrt(n)
        return 2 * interval.ratio * math.sinh(half)

    assert width(total) <= SETTINGS.max_ci_width < width(total - 1)


def test_hopelessly_noisy_figure_gets_no_round_count() -> None:
    interval = paired_interval([1.0, 1.0, 1.0], [0.2, 5.0, 1.0], 0.95)
    assert rounds_to_settle(interval, SETTINGS) is None


def test_a_wide_interval_wholly_past_the_threshold_is_still_a_regression() -> None:
    result = judge(P95, [10.0] * 5, [15.0, 22.0, 18.0, 26.0, 16.0], SETTINGS)
    assert result.interval is not None
    assert result.interval.width > SETTINGS.max_ci_width
    assert result.verdict == "regression"


def test_client_bound_throughput_is_inconclusive_never_same() -> None:
    baseline = [1000.0, 1001.0, 999.0, 1000.0]
    result = judge(RPS, baseline, baseline, SETTINGS, not_comparable="the load run was bound by its client")
    assert result.verdict == "inconclusive"
    assert result.note == "the load run was bound by its client"
    assert result.more_rounds is None  # more rounds cannot fix a run the client bounded
    assert result.interval is not None
    assert result.interval.ratio == 1.0


def test_client_bound_even_a_big_drop_is_inconclusive() -> None:
    baseline = [1000.0, 1001.0, 999.0, 1000.0]
    result = judge(RPS, baseline, [b / 2 for b in baseline], SETTINGS, not_comparable="client-bound")
    assert result.verdict == "inconclusive"


def test_values_under_the_floor_compare_as_equal() -> None:
    result = judge(CPU, [0.0, 0.2, 0.0, 0.4], [0.1, 0.0, 0.5, 0.0], SETTINGS)
    assert result.verdict == "same"
    assert result.interval is not None
    assert result.interval.ratio == 1.0


def test_one_round_is_inconclusive_and_asks_for_another() -> None:
    result = judge(P95, [10.0], [20.0], SETTINGS)
    assert result.verdict == "inconclusive"
    assert result.interval is None
    assert result.more_rounds == 1
    assert result.note == "an interval needs two rounds or more"
    entry = result.to_report()
    assert (entry["ratio"], entry["ci_low"], entry["ci_high"], entry["more_rounds"]) == (None, None, None, 1)


def test_two_rounds_are_enough_for_an_interval() -> None:
    result = judge(P95, [10.0, 10.0], [12.0, 12.0], SETTINGS)
    assert result.interval is not None
    assert result.interval.n == 2
    assert result.verdict == "regression"


def test_a_hopeless_figure_says_so_instead_of_a_round_count() -> None:
    result = judge(P95, [1.0, 1.0, 1.0], [0.2, 5.0, 1.0], SETTINGS)
    assert result.verdict == "inconclusive"
    assert result.more_rounds is None
    assert (result.note or "").endswith("limit; too noisy to settle within reach")


def test_report_entry_has_the_issue_fields() -> None:
    entry = judge(P95, [10.0, 10.0, 10.0], [12.0, 12.0, 12.0], SETTINGS).to_report()
    assert {"baseline", "candidate", "ratio", "ci_low", "ci_high", "verdict"} <= entry.keys()
    assert entry["ratio"] == 1.2
    assert (entry["ci_low"], entry["ci_high"], entry["more_rounds"]) == (1.2, 1.2, None)
    assert judge(P95, [3.0, 3.0], [1.0, 1.0], SETTINGS).to_report()["ratio"] == 0.3333
    assert entry["baseline_rounds"] == [10.0, 10.0, 10.0]
    assert entry["verdict"] == "regression"


def test_unequal_round_counts_and_non_positive_values_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in number"):
        paired_interval([1.0, 2.0], [1.0], 0.95)
    with pytest.raises(ValueError, match="positive"):
        paired_interval([1.0, 0.0], [1.0, 1.0], 0.95)
    with pytest.raises(ValueError, match="an interval needs at least two rounds"):
        paired_interval([1.0], [1.0], 0.95)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": 1.0}, "threshold"),
        ({"max_ci_width": 0}, "max_ci_width"),
        ({"confidence": 1.0}, "confidence"),
        ({"confidence": 0.49}, "confidence"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(**kwargs)


def test_settings_at_the_edges_of_their_ranges_are_accepted() -> None:
    assert Settings(threshold=0.999, confidence=0.5).confidence == 0.5


def test_exact_size_verdicts() -> None:
    assert judge_exact("image.size_bytes", "bytes", 100, 100, 0.05).verdict == "same"
    assert judge_exact("image.size_bytes", "bytes", 100, 104, 0.05).verdict == "same"
    assert judge_exact("image.size_bytes", "bytes", 100, 106, 0.05).verdict == "regression"
    assert judge_exact("image.size_bytes", "bytes", 100, 90, 0.05).verdict == "improvement"
    # On the threshold is not past it (binary-exact: 100 * 1.25 and 100 / 1.25).
    assert judge_exact("image.size_bytes", "bytes", 100, 125, 0.25).verdict == "same"
    assert judge_exact("image.size_bytes", "bytes", 100, 126, 0.25).verdict == "regression"
    assert judge_exact("image.size_bytes", "bytes", 100, 80, 0.25).verdict == "same"
    assert judge_exact("image.size_bytes", "bytes", 100, 79, 0.25).verdict == "improvement"
    assert judge_exact("image.layers", "layers", 0, 0, 0.05).verdict == "same"
    assert judge_exact("image.layers", "layers", 0, 1, 0.05).verdict == "regression"
    entry = judge_exact("image.layers", "layers", 10, 11, 0.05).to_report()
    assert entry["difference"] == 1
    assert entry["ratio"] == 1.1
    assert entry["verdict"] == "regression"


@pytest.mark.parametrize(("n_before", "n_after"), [(2, 2), (3, 6), (6, 3)])
def test_unpaired_interval_is_welchs_interval_on_the_logs(n_before: int, n_after: int) -> None:
    from scipy import stats

    before = _noisy(100.0, n_before, 0.05, seed=8)
    after = _noisy(120.0, n_after, 0.15, seed=9)
    welch = stats.ttest_ind(numpy.log(after), numpy.log(before), equal_var=False).confidence_interval(0.95)
    interval = unpaired_interval(before, after, 0.95)
    assert (interval.low, interval.high) == pytest.approx((math.exp(welch.low), math.exp(welch.high)))
    assert interval.ratio == pytest.approx(math.exp(numpy.log(after).mean() - numpy.log(before).mean()))
    assert interval.n == n_after
    se = math.sqrt(numpy.log(before).var(ddof=1) / n_before + numpy.log(after).var(ddof=1) / n_after)
    assert interval.log_sd == pytest.approx(se * math.sqrt(n_after))


def test_unpaired_interval_of_constant_sides_is_their_ratio() -> None:
    interval = unpaired_interval([10.0, 10.0], [12.0, 12.0, 12.0], 0.95)
    assert (interval.ratio, interval.low, interval.high) == pytest.approx((1.2, 1.2, 1.2))
    assert (interval.n, interval.log_sd) == (3, 0.0)


def test_unpaired_interval_finds_a_step_and_not_a_plateau() -> None:
    before = _noisy(100.0, 5, 0.02, seed=3)
    same = _noisy(100.0, 5, 0.02, seed=4)
    stepped = _noisy(130.0, 5, 0.02, seed=5)
    assert verdict_of(unpaired_interval(before, same, 0.95), "smaller", SETTINGS) == "same"
    assert verdict_of(unpaired_interval(before, stepped, 0.95), "smaller", SETTINGS) == "regression"
    with pytest.raises(ValueError, match="two values on each side"):
        unpaired_interval([1.0], [1.0, 2.0], 0.95)
    with pytest.raises(ValueError, match="two values on each side"):
        unpaired_interval([1.0, 2.0], [1.0], 0.95)


def test_false_alarm_rate_of_identical_noisy_sides_is_near_the_nominal_level() -> None:
    # With equal distributions a regression needs the interval wholly above 1.05: far rarer than 2.5 %.
    alarms = sum(
        judge(P95, _noisy(10.0, 6, 0.1, seed=2 * i), _noisy(10.0, 6, 0.1, seed=2 * i + 1), SETTINGS).verdict
        == "regression"
        for i in range(400)
    )
    assert alarms / 400 < 0.025
