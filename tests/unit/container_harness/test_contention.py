"""Contention windows from engine looks, and the gate calling a contended regression inconclusive (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from container_harness.gate.baseline import Tolerance, compare
from container_harness.measure.contention import Sample, other_cpus, window
from container_harness.measure.usage import cpu_percent

PAYLOADS = Path(__file__).parent / "payloads"


def _payload(name: str) -> dict[str, object]:
    payload: dict[str, object] = json.loads((PAYLOADS / name).read_text())
    return payload


def test_other_containers_cpu_adds_up_one_shot_payloads_captured_from_the_engine() -> None:
    busy, idle = _payload("stats_busy.json"), _payload("stats_idle.json")
    assert other_cpus([busy, idle]) == pytest.approx((cpu_percent(busy) + cpu_percent(idle)) / 100)
    assert other_cpus([busy]) > 0.5  # captured under load: more than half a CPU


def test_a_window_takes_its_busiest_sample_as_a_share_of_the_engine() -> None:
    samples = [
        Sample(at=10.0, other_cpus=0.1, containers=("a",), host_load_1m=0.5),
        Sample(at=12.0, other_cpus=1.5, containers=("a", "burner"), host_load_1m=1.8),
        Sample(at=30.0, other_cpus=2.0, containers=("late",), host_load_1m=2.0),
    ]
    seen = window(samples, 9.0, 13.0, engine_cpus=2)
    assert seen.max_share == pytest.approx(0.75)
    assert seen.containers == ("a", "burner")
    assert seen.host_load_1m == 1.8


def test_a_window_between_looks_takes_the_nearest_one() -> None:
    samples = [Sample(at=10.0, other_cpus=1.0, containers=("x",), host_load_1m=None)]
    assert window(samples, 11.0, 11.5, engine_cpus=4).max_share == pytest.approx(0.25)
    assert window([], 0.0, 1.0, engine_cpus=4).max_share == 0.0


def test_the_gate_calls_a_contended_regression_inconclusive_and_passes() -> None:
    baseline = {"load": {"p95_ms": 10.0, "rps": 2000.0}}
    report = {
        "load": {"p95_ms": 30.0, "rps": 900.0},
        "environment": {"contention": {"figures": ["load.p95_ms"]}},
    }
    tolerances = [Tolerance("load.p95_ms", relative=0.25), Tolerance("load.rps", better="higher", relative=0.2)]
    result = compare(baseline, report, tolerances)
    assert [c.name for c in result.inconclusive] == ["load.p95_ms"]
    assert [c.name for c in result.regressions] == ["load.rps"]
    assert "inconclusive (measured while other containers used the engine's CPUs)" in result.inconclusive[0].message
    report["environment"] = {"contention": {"figures": ["load.p95_ms", "load.rps"]}}
    assert compare(baseline, report, tolerances).ok
