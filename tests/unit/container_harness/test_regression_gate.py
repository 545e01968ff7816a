"""The regression gate: a report against a baseline, with direction-aware tolerances."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from container_harness.errors import GateInputError
from container_harness.gate.baseline import (
    DEFAULT_TOLERANCES,
    Tolerance,
    compare,
    gate_markdown,
    load_tolerances,
    parse_tolerances,
)


def _report() -> dict[str, Any]:
    """A report.json as the plugin writes it (the figures the gate covers, plus some it does not)."""
    return {
        "image": {"tag": "api:latest", "size_bytes": 420_000_000, "layers": 12},
        "build": {"full_s": 80.0, "cached_s": 2.0, "code_change_s": 6.0, "steps": [{"number": 1}]},
        "startup": {"ready_s": [0.9, 1.1], "ready_median_s": 1.0},
        "load": {
            "users": 10,
            "requests": 30_000,
            "failures": 0,
            "rps": 1000.0,
            "p50_ms": 4.0,
            "p95_ms": 8.0,
            "p99_ms": 12.0,
            "cpuset": "container=0 locust=1",
        },
        "memory": {"idle_bytes": 120_000_000, "load_peak_bytes": 150_000_000},
        "cpu": {"idle_percent": 0.5},
        "budgets": [{"name": "image.size_bytes", "measured": 1}],
        "environment": {"cpus": 2},
        "units": {"image.size_bytes": "bytes", "load.p95_ms": "ms", "cpu.idle_percent": "%"},
    }


def _with(report: dict[str, Any], **changes: float) -> dict[str, Any]:
    """A copy with figures replaced: _with(r, load__rps=800) sets load.rps."""
    changed = copy.deepcopy(report)
    for key, value in changes.items():
        group, name = key.split("__")
        changed[group][name] = value
    return changed


def _names(
    report: dict[str, Any], baseline: dict[str, Any], tolerances: Any = DEFAULT_TOLERANCES
) -> list[str]:
    return [c.name for c in compare(baseline, report, tolerances).regressions]


def test_report_passes_against_itself() -> None:
    result = compare(_report(), _report())
    assert result.ok
    assert {c.name for c in result.comparisons} == {
        "image.size_bytes",
        "build.full_s",
        "build.cached_s",
        "build.code_change_s",
        "startup.ready_median_s",
        "load.failures",
        "load.rps",
        "load.p50_ms",
        "load.p95_ms",
        "load.p99_ms",
        "memory.idle_bytes",
        "memory.load_peak_bytes",
        "cpu.idle_percent",
    }


def test_baseline_three_times_better_fails_naming_each_figure() -> None:
    report = _report()
    better = _with(
        report,
        image__size_bytes=140_000_000,
        load__rps=3000.0,
        load__p95_ms=8.0 / 3,
        load__p99_ms=4.0,
        memory__load_peak_bytes=50_000_000,
    )
    assert _names(report, better) == [
        "image.size_bytes",
        "load.rps",
        "load.p95_ms",
        "load.p99_ms",
        "memory.load_peak_bytes",
    ]


@pytest.mark.parametrize(
    ("changes", "regressed"),
    [
        ({"load__rps": 1500.0}, []),  # more throughput is better
        ({"load__rps": 810.0}, []),  # -19 % is within -20 %
        ({"load__rps": 790.0}, ["load.rps"]),
        ({"load__p95_ms": 2.0}, []),  # lower latency is better
        ({"load__p95_ms": 9.9}, []),  # +24 % is within +25 %
        ({"load__p95_ms": 10.1}, ["load.p95_ms"]),
        ({"image__size_bytes": 440_000_000}, []),  # +4.8 %
        ({"image__size_bytes": 445_000_000}, ["image.size_bytes"]),
        ({"build__full_s": 119.0, "build__cached_s": 3.1}, ["build.cached_s"]),
        ({"cpu__idle_percent": 5.4}, []),  # absolute: +4.9 points
        ({"cpu__idle_percent": 5.6}, ["cpu.idle_percent"]),
        ({"load__failures": 1}, ["load.failures"]),
    ],
)
def test_direction_and_size_of_each_tolerance(changes: dict[str, float], regressed: list[str]) -> None:
    assert _names(_with(_report(), **changes), _report()) == regressed


def test_figure_missing_from_the_report_is_a_regression() -> None:
    report = _report()
    del report["load"]["p99_ms"]
    result = compare(_report(), report)
    (missing,) = result.regressions
    assert (missing.name, missing.measured, missing.change) == ("load.p99_ms", None, "missing")
    assert "load.p99_ms is in the baseline but missing from the report" in missing.message


def test_figures_only_in_the_report_are_not_compared() -> None:
    baseline = _report()
    del baseline["memory"]
    assert "memory.idle_bytes" not in {c.name for c in compare(baseline, _report()).comparisons}


def test_tolerance_file_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "tolerances.toml"
    path.write_text('[tolerance."load.p95_ms"]\nrelative = 0.5\n[tolerance."load.users"]\nabsolute = 0\n')
    tolerances = load_tolerances(path)
    report = _with(_report(), load__p95_ms=11.0, load__users=12)
    assert _names(report, _report(), tolerances) == ["load.users"]


def test_messages_show_change_and_tolerance() -> None:
    comparison = compare(_report(), _with(_report(), load__rps=700.0)).regressions[0]
    assert comparison.change == "-30.0 %"
    assert comparison.tolerance.describe(None) == "-20 %"
    assert "REGRESSION" in comparison.message
    assert Tolerance("cpu.idle_percent", absolute=5).describe("%") == "+5 points"


def test_markdown_names_the_regressions() -> None:
    text = gate_markdown(compare(_report(), _with(_report(), load__p99_ms=20.0)))
    assert text.startswith("### Regression gate failed: load.p99_ms")
    assert "| `load.p99_ms` |" in text


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ({"tolerance": {"load.rps": {"relative": 0.2, "absolute": 1}}}, "exactly one of"),
        ({"tolerance": {"load.rps": {"relative": -0.2}}}, "must be a number >= 0"),
        ({"tolerance": {"load.rps": {"relative": 0.2, "better": "up"}}}, 'must be "lower" or "higher"'),
        ({"tolerance": {"load.rps": {"relative": 0.2, "max": 3}}}, "unknown keys"),
        ({"tolerance": [1]}, "must be a table of tables"),
    ],
)
def test_malformed_tolerances_are_explained(toml: dict[str, Any], problem: str) -> None:
    with pytest.raises(GateInputError, match=problem):
        parse_tolerances(toml)


def test_unreadable_tolerance_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(GateInputError, match="cannot read tolerances file"):
        load_tolerances(tmp_path / "absent.toml")
