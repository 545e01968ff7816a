"""The `container-harness` command through `python -m container_harness`: output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _harness(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "container_harness", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def _write(path: Path, report: dict[str, Any]) -> Path:
    path.write_text(json.dumps(report))
    return path


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "report.json",
        {
            "image": {"tag": "api:latest", "size_bytes": 420_000_000},
            "load": {"rps": 1000.0, "p95_ms": 8.0, "failures": 0},
            "units": {"image.size_bytes": "bytes", "load.p95_ms": "ms"},
        },
    )


def test_report_against_itself_exits_0(report: Path) -> None:
    run = _harness("compare", "--baseline", report, report)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "gate passed: 4 figures" in run.stdout
    assert "regression gate" in run.stdout


def test_three_times_better_baseline_exits_1_naming_the_figures(report: Path, tmp_path: Path) -> None:
    better = json.loads(report.read_text())
    better["load"].update(rps=3000.0, p95_ms=8.0 / 3)
    baseline = _write(tmp_path / "baseline.json", better)
    run = _harness("compare", "--baseline", baseline, report)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "gate failed: 2 regression(s): load.rps, load.p95_ms" in run.stdout


def test_tolerances_file_and_markdown_output(report: Path, tmp_path: Path) -> None:
    slower = json.loads(report.read_text())
    slower["load"]["p95_ms"] = 11.0
    measured = _write(tmp_path / "slower.json", slower)
    tolerances = tmp_path / "tolerances.toml"
    tolerances.write_text('[tolerance."load.p95_ms"]\nrelative = 0.5\n')
    markdown = tmp_path / "summary.md"
    assert _harness("compare", "--baseline", report, measured).returncode == 1
    run = _harness(
        "compare", "--baseline", report, measured, "--tolerances", tolerances, "--markdown", markdown
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert markdown.read_text().startswith("### Regression gate passed")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the report"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
    ],
)
def test_unreadable_report_exits_2_with_a_message(
    report: Path, tmp_path: Path, content: str | None, message: str
) -> None:
    broken = tmp_path / "broken.json"
    if content is not None:
        broken.write_text(content)
    run = _harness("compare", "--baseline", report, broken)
    assert run.returncode == 2
    assert message in run.stderr


def test_baseline_without_covered_figures_exits_2(report: Path, tmp_path: Path) -> None:
    empty = _write(tmp_path / "empty.json", {"load": {"users": 10}})
    run = _harness("compare", "--baseline", empty, report)
    assert run.returncode == 2
    assert "nothing was compared" in run.stdout


def test_usage_error_exits_2() -> None:
    run = _harness("compare")
    assert run.returncode == 2
    assert "--baseline" in run.stderr


def test_summary_prints_the_reports_markdown(report: Path) -> None:
    run = _harness("summary", report)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("## Container harness report")
    assert "| `load.p95_ms` | 8 ms |" in run.stdout


def _history(path: Path, p95: list[float]) -> Path:
    """A JSON Lines history of nights whose load.p95_ms took these values."""
    lines = [
        json.dumps(
            {
                "date": f"2026-11-{night + 1:02d}",
                "sha": f"c{night}",
                "figures": {"load.p95_ms": {"value": value, "unit": "ms", "better": "smaller"}},
            }
        )
        for night, value in enumerate(p95)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_trend_flags_a_step_writing_markdown_and_png(tmp_path: Path) -> None:
    history = _history(tmp_path / "history.jsonl", [8.0, 8.1, 7.9, 8.0, 9.6, 9.7, 9.5, 9.6])
    run = _harness("trend", history, "--last", "4", "--markdown", tmp_path / "trend.md", "--fail-on-step")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "| load.p95_ms | 8 | 9.6 ms | 1.2" in run.stdout
    assert (tmp_path / "trend.md").read_text() == run.stdout
    assert (tmp_path / "history.png").stat().st_size > 10_000
    assert _harness("trend", history, "--last", "4").returncode == 0


def test_trend_of_a_missing_history_exits_2(tmp_path: Path) -> None:
    run = _harness("trend", tmp_path / "absent.jsonl")
    assert run.returncode == 2
    assert "cannot read the history" in run.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["ab", "--candidate", "x"],  # no baseline at all
        ["ab", "--baseline", "a", "--baseline-ref", "main"],  # both
        ["ab", "--baseline", "a", "--rounds", "1"],
        ["ab", "--baseline", "a", "--threshold", "5"],
    ],
)
def test_ab_usage_errors_exit_2(args: list[str]) -> None:
    run = _harness(*args)
    assert run.returncode == 2
    assert "error:" in run.stderr
