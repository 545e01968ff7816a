"""The A/B judgement and its outputs without an engine: exit codes, the `ab` section, Markdown, PNG, the
github-action-benchmark export, the history and its trend (the commands themselves: test_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from container_harness.errors import GateInputError
from container_harness.exit_codes import EXIT_BAD_INPUT, EXIT_OK, EXIT_REGRESSION
from container_harness.gate.ab_result import (
    AbRounds,
    ImageSide,
    RoundValues,
    judge_rounds,
)
from container_harness.gate.ab_stats import Settings
from container_harness.gate.history import append_history, history_entry, read_history, trends
from container_harness.jobs.ab_command import ab_tag
from container_harness.report.ab_render import ab_markdown, benchmark_entries, plot_rounds

BASE = {
    "startup.ready_s": 1.0,
    "memory.idle_bytes": 100e6,
    "cpu.idle_percent": 0.2,
    "load.rps": 1000.0,
    "load.p50_ms": 4.0,
    "load.p95_ms": 8.0,
    "load.p99_ms": 12.0,
}
NOISE = (1.0, 1.02, 0.98, 1.01, 0.99, 1.0)


def _rounds(
    factor: dict[str, float] | None = None,
    bound: set[int] | None = None,
    per_round: dict[str, tuple[float, ...]] | None = None,
) -> AbRounds:
    """Six rounds of BASE with a little noise; the candidate's figures multiplied by factor, and per round by
    per_round's factors (one per round, to widen a figure's interval)."""
    rounds = AbRounds()
    for number, noise in enumerate(NOISE):
        rounds.add("baseline", RoundValues({k: v * noise for k, v in BASE.items()}, "service", 0.95))
        values = {
            k: v * noise * (factor or {}).get(k, 1.0) * (per_round or {}).get(k, (1.0,) * len(NOISE))[number]
            for k, v in BASE.items()
        }
        limit = "client" if number in (bound or set()) else "service"
        rounds.add("candidate", RoundValues(values, limit, 0.5 if limit == "client" else 0.95))
    return rounds


def _judge(rounds: AbRounds, size: int = 300_000_000, layers: int = 12) -> dict[str, Any]:
    result = judge_rounds(
        rounds,
        ImageSide("api:base", "sha256:a", 300_000_000, 12),
        ImageSide("api:head", "sha256:b", size, layers),
        Settings(),
        {"cpus": 2, "wall_s": 200.0},
    )
    return result.to_report()


def test_identical_sides_pass_with_every_figure_same() -> None:
    ab = _judge(_rounds())
    assert ab["exit_code"] == EXIT_OK
    assert {figure["verdict"] for figure in ab["figures"].values()} == {"same"}
    assert ab["rounds"] == 6
    assert ab["threshold"] == 0.05
    assert ab["environment"]["cpus"] == 2


def test_slower_latency_and_lower_throughput_exit_1_naming_them() -> None:
    ab = _judge(_rounds({"load.p95_ms": 1.1, "load.rps": 1 / 1.1}))
    assert ab["exit_code"] == EXIT_REGRESSION
    assert ab["regressions"] == ["load.rps", "load.p95_ms"]
    assert ab["figures"]["load.rps"]["ratio"] == pytest.approx(1 / 1.1, abs=1e-3)


def test_a_client_bound_round_exits_2_and_throughput_is_inconclusive() -> None:
    ab = _judge(_rounds({"load.rps": 0.5, "load.p95_ms": 1.2}, bound={3}))
    assert ab["exit_code"] == EXIT_BAD_INPUT
    assert ab["figures"]["load.rps"]["verdict"] == "inconclusive"
    # Only throughput is the client's figure: the others are judged as usual.
    assert ab["figures"]["load.p95_ms"]["verdict"] == "regression"
    assert ab["figures"]["load.p50_ms"]["verdict"] == "same"
    assert ab["figures"]["load.p50_ms"]["note"] is None
    assert ab["figures"]["load.rps"]["note"] == (
        "bound by the client, not the service, in candidate round 4 (CPU saturation 0.50): the throughput is the "
        "load generator's; give the container fewer CPUs or Locust more users or processes"
    )
    assert ab["client_bound"] == ["candidate round 4 (CPU saturation 0.50)"]
    assert ab["cpu_saturation"] == {"baseline": [0.95] * 6, "candidate": [0.95, 0.95, 0.95, 0.5, 0.95, 0.95]}


def test_client_bound_rounds_are_all_named_and_saturation_is_rounded() -> None:
    rounds = _rounds(bound={0, 2})
    rounds.baseline[1] = RoundValues(rounds.baseline[1].values, "client", 0.123456)
    ab = _judge(rounds)
    assert ab["client_bound"] == [
        "baseline round 2 (CPU saturation 0.12)",
        "candidate round 1 (CPU saturation 0.50)",
        "candidate round 3 (CPU saturation 0.50)",
    ]
    assert "in baseline round 2 (CPU saturation 0.12); candidate round 1" in ab["figures"]["load.rps"]["note"]
    assert ab["cpu_saturation"]["baseline"][1] == 0.123


def test_an_inconclusive_figure_is_not_a_regression() -> None:
    ab = _judge(_rounds(per_round={"load.p99_ms": (0.8, 1.25, 0.85, 1.2, 0.9, 1.15)}))
    assert ab["figures"]["load.p99_ms"]["verdict"] == "inconclusive"
    assert ab["regressions"] == []
    assert ab["exit_code"] == EXIT_OK


def test_a_bigger_image_is_an_exact_regression_and_an_extra_layer_only_informs() -> None:
    ab = _judge(_rounds(), size=330_000_000, layers=14)
    assert ab["exact"]["image.size_bytes"]["verdict"] == "regression"
    assert ab["exact"]["image.layers"]["verdict"] == "regression"
    assert ab["exact"]["image.layers"]["unit"] == "layers"
    assert ab["regressions"] == ["image.size_bytes"]


def test_markdown_has_a_row_per_figure_and_the_headline(tmp_path: Path) -> None:
    ab = _judge(_rounds({"load.p95_ms": 1.2}))
    markdown = ab_markdown(ab)
    assert markdown.startswith("### A/B api:head against api:base, 6 ABBA rounds: regression in load.p95_ms")
    assert markdown.count("\n| ") == 1 + len(ab["figures"]) + len(ab["exact"])
    assert "| load.p95_ms | 8 ms | 9.6 ms | 1.200 |" in markdown
    picture = plot_rounds(ab, tmp_path / "rounds.png")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_benchmark_export_splits_by_direction() -> None:
    entries = benchmark_entries(_judge(_rounds()))
    bigger = entries["customBiggerIsBetter"]
    smaller = {entry["name"]: entry for entry in entries["customSmallerIsBetter"]}
    assert [entry["name"] for entry in bigger] == ["load.rps"]
    assert bigger[0]["unit"] == "req/s"
    assert smaller["load.p95_ms"]["value"] == pytest.approx(8.0, rel=0.02)
    assert smaller["image.size_bytes"] == {"name": "image.size_bytes", "unit": "bytes", "value": 300_000_000}
    assert all({"name", "unit", "value"} <= entry.keys() for entry in [*bigger, *smaller.values()])


def _history(path: Path, p95: list[float]) -> Path:
    for night, value in enumerate(p95):
        ab = _judge(_rounds())
        ab["figures"]["load.p95_ms"]["candidate"] = value
        append_history(path, history_entry(ab, sha=f"c{night}", date=f"2026-11-{night + 1:02d}", harness_version="0"))
    return path


def test_history_lines_carry_commit_date_runner_and_version(tmp_path: Path) -> None:
    entries = read_history(_history(tmp_path / "history.jsonl", [8.0, 8.1]))
    assert [entry["sha"] for entry in entries] == ["c0", "c1"]
    assert entries[1]["figures"]["load.p95_ms"] == {"value": 8.1, "unit": "ms", "better": "smaller"}
    assert entries[0]["runner"]["cpus"] == 2
    assert entries[0]["harness_version"] == "0"


def test_trend_flags_a_step_and_not_a_plateau(tmp_path: Path) -> None:
    flat = [8.0, 8.1, 7.9, 8.0, 8.05, 7.95, 8.0, 8.1]
    stepped = [8.0, 8.1, 7.9, 8.0, 9.6, 9.7, 9.5, 9.6]
    settings = Settings()
    same = {t.name: t for t in trends(read_history(_history(tmp_path / "flat.jsonl", flat)), 4, settings)}
    step = {t.name: t for t in trends(read_history(_history(tmp_path / "step.jsonl", stepped)), 4, settings)}
    assert same["load.p95_ms"].verdict == "same"
    assert step["load.p95_ms"].verdict == "regression"
    short = trends(read_history(_history(tmp_path / "short.jsonl", flat[:5])), 4, settings)
    assert {t.name: t.verdict for t in short}["load.p95_ms"] == "inconclusive"


def test_broken_history_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text('{"figures": {}}\nnot json\n')
    with pytest.raises(GateInputError, match="line 2 is not JSON"):
        read_history(path)


def test_built_sides_get_tags_of_their_own() -> None:
    assert (
        ab_tag("energy-optimization-api:latest", "baseline", "abc") == "energy-optimization-api:latest-ab-baseline-abc"
    )
    assert ab_tag("localhost:5000/api", "candidate", "abc") == "localhost:5000/api:latest-ab-candidate-abc"


def test_report_is_json_serialisable() -> None:
    json.dumps(_judge(_rounds({"load.rps": 0.5}, bound={0})))
