"""The history's trend for people: a Markdown table of step-change verdicts and a PNG of each figure over time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, and no GUI toolkit imported inside test processes

import matplotlib.pyplot as plt

from container_harness.figures import format_figure
from container_harness.gate.history import Trend


def trend_markdown(found: Sequence[Trend], last: int) -> str:
    """One row per figure: latest value, ratio of the last `last` runs to the `last` before, interval, verdict."""
    lines = [
        f"### Trend: last {last} runs against the {last} before",
        "",
        "| figure | runs | latest | ratio | 95 % CI | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for trend in found:
        interval = trend.interval
        ratio = "-" if interval is None else f"{interval.ratio:.3f}"
        bounds = "-" if interval is None else f"{interval.low:.3f} to {interval.high:.3f}"
        verdict = trend.verdict + (f" ({trend.note})" if trend.note else "")
        latest = format_figure(trend.values[-1], trend.unit, exact=False)
        lines.append(f"| {trend.name} | {len(trend.values)} | {latest} | {ratio} | {bounds} | {verdict} |")
    return "\n".join([*lines, ""])


def plot_trends(found: Sequence[Trend], path: Path, last: int) -> Path:
    """Each figure over the runs, the two compared windows shaded, the verdict in the panel's title."""
    if not found:
        raise ValueError("no figures in the history to plot")
    columns = 2
    rows = math.ceil(len(found) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(11, 3 * rows), dpi=100, squeeze=False)
    try:
        for panel, trend in zip(axes.flat, found, strict=False):
            runs = list(range(1, len(trend.values) + 1))
            panel.plot(runs, trend.values, marker="o", markersize=3)
            if len(runs) >= 2 * last:
                panel.axvspan(runs[-2 * last] - 0.5, runs[-last] - 0.5, color="tab:blue", alpha=0.08)
                panel.axvspan(runs[-last] - 0.5, runs[-1] + 0.5, color="tab:orange", alpha=0.12)
            panel.set_title(f"{trend.name} ({trend.unit}): {trend.verdict}", fontsize=9)
            panel.set_xlabel(f"run ({trend.dates[0][:10]} … {trend.dates[-1][:10]})", fontsize=8)
        for panel in list(axes.flat)[len(found) :]:
            panel.axis("off")
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path
