"""The report: report.json content, Markdown summary, rich tables and JUnit properties from one dict."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from container_harness.gate.budgets import Budget, evaluate
from container_harness.image.inspect import image_facts
from container_harness.report.render import (
    build_report,
    junit_properties,
    render_markdown,
    render_rich_table,
    write_json,
)
from container_harness.report.results import Results

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture
def report() -> dict[str, Any]:
    """A report of the tiny image as the engine described it, with a passing and a failing budget."""
    attrs = json.loads((PAYLOADS / "image_inspect.json").read_text())
    history = json.loads((PAYLOADS / "image_history.json").read_text())
    facts = image_facts("tiny:test", attrs, history, "local/busybox:stable", 1_900_000, 1)
    results = Results()
    for name, value in facts.to_report().items():
        results.record(f"image.{name}", value, unit="bytes" if name.endswith("bytes") else None)
    results.record("build.full_s", 3.2, unit="s")
    results.record("build.steps", [{"number": 1, "instruction": "FROM x"}])
    results.record("startup.ready_s", [0.31, 0.29, 0.35], unit="s")
    results.record("startup.ready_median_s", 0.31, unit="s")
    results.record("environment.engine", {"engine_version": "20.10.24", "cpus": 2})
    figures = results.figures()
    for budget in (
        Budget("startup.ready_median_s", max=10, unit="s"),
        Budget("image.size_bytes", max=1, unit="bytes"),
    ):
        results.add_budget(evaluate(budget, figures))
    return build_report(results.figures(), results.units(), results.budgets, {"harness": {"wall_s": 12.5}})


def test_report_json_holds_image_figures_budgets_and_environment(
    report: dict[str, Any], tmp_path: Path
) -> None:
    written = json.loads(write_json(report, tmp_path / "deep" / "report.json").read_text())
    assert written["image"]["size_bytes"] == json.loads((PAYLOADS / "image_inspect.json").read_text())["Size"]
    assert {"tag", "id", "size_bytes", "base_image", "base_size_bytes", "layers"} <= set(written["image"])
    assert written["startup"]["ready_s"] == [0.31, 0.29, 0.35]
    assert [(b["name"], b["ok"]) for b in written["budgets"]] == [
        ("startup.ready_median_s", True),
        ("image.size_bytes", False),
    ]
    assert written["environment"] == {
        "engine": {"engine_version": "20.10.24", "cpus": 2},
        "harness": {"wall_s": 12.5},
    }
    assert written["units"]["startup.ready_median_s"] == "s"


def test_markdown_shows_budget_verdicts_and_figures(report: dict[str, Any]) -> None:
    markdown = render_markdown(report)
    assert "**Budgets: 1 ok, 1 failed**" in markdown
    assert "| `startup.ready_median_s` | 0.31 s | <= 10 s | ✅ |" in markdown
    assert "| `image.size_bytes` |" in markdown
    assert "| <= 1 bytes | ❌ |" in markdown
    assert "| `startup.ready_s` | [0.31 s, 0.29 s, 0.35 s] |" in markdown
    assert "build.steps" not in markdown
    assert "image.layers" not in markdown


def test_rich_tables_render_budgets_first(report: dict[str, Any]) -> None:
    tables = render_rich_table(report)
    buffer = io.StringIO()
    console = Console(file=buffer, width=160)
    for table in tables:
        console.print(table)
    text = buffer.getvalue()
    assert [table.title for table in tables] == ["harness budgets", "harness figures"]
    assert text.index("harness budgets") < text.index("harness figures")
    assert "OVER" not in text
    assert "FAIL" in text
    assert "image.base_image" in text


def test_junit_properties_carry_figures_and_budget_verdicts(report: dict[str, Any]) -> None:
    properties = dict(junit_properties(report))
    assert properties["harness.build.full_s"] == "3.2 s"
    assert properties["harness.budget.startup.ready_median_s"] == "ok: 0.31 s (limit <= 10 s)"
    assert properties["harness.budget.image.size_bytes"].startswith("FAIL: ")


def test_an_empty_run_renders_without_budgets() -> None:
    empty = build_report({}, {}, [], {})
    assert render_rich_table(empty)[0].title == "harness figures"
    assert "Budgets" not in render_markdown(empty)


def test_every_budget_name_stays_whole_at_80_columns() -> None:
    long_name = "load.endpoints./predict_onnx/batch.p99_ms"
    figures = {
        "image": {"size_bytes": 1_984_566_000},
        "load": {"endpoints": {"/predict_onnx/batch": {"p99_ms": 123.456}}, "rps_per_core": 312.25},
    }
    budgets = [
        Budget(long_name, max=200, unit="ms"),
        Budget("image.size_bytes", max=1_500_000_000, unit="bytes"),
        Budget("load.rps_per_core", min=400, unit="requests per second per pinned CPU core"),
    ]
    report = build_report(figures, {}, [evaluate(budget, figures) for budget in budgets], {})
    buffer = io.StringIO()
    Console(file=buffer, width=80).print(render_rich_table(report)[0])
    text = buffer.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    for budget in budgets:
        assert budget.name in text
    assert "result" in text
    assert "FAIL" in text


def test_markdown_gains_commit_endpoint_table_pictures_and_baseline_changes(report: dict[str, Any]) -> None:
    report["environment"]["commit"] = "0123abcd" * 5
    report["load"] = {
        "requests": 30, "rps": 10.0, "p50_ms": 2.0, "p90_ms": 3.0, "p95_ms": 3.5, "p99_ms": 4.0, "max_ms": 9.0,
        "endpoints": {
            "fast": {"requests": 20, "rps": 6.7, "p50_ms": 1.0, "p90_ms": 2.0, "p95_ms": 2.5, "p99_ms": 3.0,
                     "max_ms": 4.0},
        },
        "histogram": "latency_histogram.png",
    }
    baseline = {"build": {"full_s": 2.0}, "startup": {"ready_median_s": 0.31}}
    markdown = render_markdown(report, baseline)
    assert f"Commit `{'0123abcd' * 5}`" in markdown
    assert "| `fast` | 20 | 6.70 | 1.00 | 2.00 | 2.50 | 3.00 | 4.00 |" in markdown
    assert "| `all` | 30 | 10.00 | 2.00 | 3.00 | 3.50 | 4.00 | 9.00 |" in markdown
    assert "![histogram](latency_histogram.png)" in markdown
    assert "| `build.full_s` | 3.2 s | 2 s | +60.0 % |" in markdown
    assert "| `startup.ready_median_s` | 0.31 s | 0.31 s | +0.0 % |" in markdown
    assert "| `image.tag` | tiny:test |  |  |" in markdown


def test_text_in_brackets_reaches_the_terminal_table_instead_of_being_read_as_markup() -> None:
    report = build_report({"image": {"user": "[bold]app"}, "volume": {"target": "[tool.harness]"}}, {}, [], {})
    buffer = io.StringIO()
    Console(file=buffer, width=120).print(*render_rich_table(report))
    assert "[bold]app" in buffer.getvalue()
    assert "[tool.harness]" in buffer.getvalue()
