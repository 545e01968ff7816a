"""The A/B report's `ab` section for people and tools: a Markdown and a terminal table, a PNG of every round,
and github-action-benchmark's customSmallerIsBetter / customBiggerIsBetter JSON."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from container_harness.figures import format_figure
from container_harness.report.panels import panel_grid

_MARK = {
    "regression": "❌ regression",
    "improvement": "✅ improvement",
    "same": "same",
    "inconclusive": "❔ inconclusive",
}
_COLUMNS = ("figure", "baseline", "candidate", "ratio", "95 % CI", "verdict")


def ab_rows(ab: Mapping[str, Any], notes: bool = True) -> list[tuple[str, ...]]:
    """One row per figure (judged, then exact): name, both medians, ratio, interval, verdict (with its note)."""
    rows: list[tuple[str, ...]] = []
    for name, figure in ab["figures"].items():
        unit = figure.get("unit")
        interval = "-" if figure["ci_low"] is None else f"{figure['ci_low']:.3f} to {figure['ci_high']:.3f}"
        verdict = _MARK[figure["verdict"]] + (f" ({figure['note']})" if notes and figure.get("note") else "")
        ratio = "-" if figure["ratio"] is None else f"{figure['ratio']:.3f}"
        rows.append(
            (
                name,
                format_figure(figure["baseline"], unit, exact=False),
                format_figure(figure["candidate"], unit, exact=False),
                ratio,
                interval,
                verdict,
            )
        )
    for name, figure in ab["exact"].items():
        ratio = "-" if figure["ratio"] is None else f"{figure['ratio']:.4f}"
        rows.append(
            (
                name,
                format_figure(figure["baseline"], figure["unit"]),
                format_figure(figure["candidate"], figure["unit"]),
                ratio,
                "exact",
                _MARK[figure["verdict"]],
            )
        )
    return rows


def ab_headline(ab: Mapping[str, Any]) -> str:
    """One sentence: the two images, the rounds, and what the gate says."""
    what = f"{ab['candidate']['ref']} against {ab['baseline']['ref']}, {ab['rounds']} ABBA rounds"
    if ab["client_bound"]:
        return f"A/B {what}: not comparable, a load run was bound by its client (exit 2)"
    if ab["regressions"]:
        return f"A/B {what}: regression in {', '.join(ab['regressions'])} (exit 1)"
    return f"A/B {what}: no regression (threshold {ab['threshold']:.0%})"


def ab_markdown(ab: Mapping[str, Any]) -> str:
    """The comparison as Markdown, for $GITHUB_STEP_SUMMARY."""
    lines = [f"### {ab_headline(ab)}", "", "| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in ab_rows(ab)]
    environment = ab.get("environment", {})
    lines += [
        "",
        f"Ratio = candidate / baseline; {ab['method']}, {ab['confidence']:.0%} confidence; regression or "
        f"improvement when the whole interval lies beyond ±{ab['threshold']:.0%}, inconclusive when it is wider "
        f"than {ab['max_ci_width']:g}. Wall time {environment.get('wall_s', '?')} s.",
        "",
    ]
    return "\n".join(lines)


def ab_table(ab: Mapping[str, Any]) -> Table:
    """The comparison as a rich table for the terminal."""
    table = Table(title=ab_headline(ab), title_justify="left")
    for column in _COLUMNS:
        table.add_column(column, justify="left" if column in ("figure", "verdict") else "right")
    for row in ab_rows(ab, notes=False):
        table.add_row(*(Text(cell) for cell in row))  # Text: a `[` in a figure name is not markup
    return table


def plot_rounds(ab: Mapping[str, Any], path: Path) -> Path:
    """Each judged figure's per-round values, baseline and candidate side by side, one panel per figure."""
    figures = ab["figures"]
    width = 0.38
    with panel_grid(len(figures), path, ab_headline(ab)) as panels:
        for panel, (name, data) in zip(panels, figures.items(), strict=True):
            rounds = range(1, len(data["baseline_rounds"]) + 1)
            panel.bar([r - width / 2 for r in rounds], data["baseline_rounds"], width, label="baseline")
            panel.bar([r + width / 2 for r in rounds], data["candidate_rounds"], width, label="candidate")
            panel.set_title(f"{name} ({data['unit']}): {data['verdict']}", fontsize=9)
            panel.set_xticks(list(rounds))
            panel.set_xlabel("round", fontsize=8)
        panels[0].legend(fontsize=8)
    return path


def benchmark_entries(ab: Mapping[str, Any], side: str = "candidate") -> dict[str, list[dict[str, Any]]]:
    """github-action-benchmark's custom tools: {"customSmallerIsBetter": [...], "customBiggerIsBetter": [...]}.

    Each entry is one figure of `side` (its median over the rounds), with the interval in `range` and the
    verdict in `extra`, as that action's custom JSON takes them.
    """
    entries: dict[str, list[dict[str, Any]]] = {"customSmallerIsBetter": [], "customBiggerIsBetter": []}
    for name, figure in ab["figures"].items():
        tool = "customBiggerIsBetter" if figure["better"] == "bigger" else "customSmallerIsBetter"
        entry: dict[str, Any] = {"name": name, "unit": figure["unit"], "value": figure[side]}
        if figure["ci_low"] is not None:
            entry["range"] = f"ratio {figure['ci_low']:.3f} to {figure['ci_high']:.3f}"
        entry["extra"] = f"verdict {figure['verdict']} against {ab['baseline']['ref']}"
        entries[tool].append(entry)
    for name, figure in ab["exact"].items():
        entries["customSmallerIsBetter"].append({"name": name, "unit": figure["unit"], "value": figure[side]})
    return entries
