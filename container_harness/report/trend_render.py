"""The history's trend for people: a Markdown table of step-change verdicts and a PNG of each figure over time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from container_harness.figures import format_figure
from container_harness.gate.history import Trend
from container_harness.report.panels import panel_grid


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
    with panel_grid(len(found), path) as panels:
        for panel, trend in zip(panels, found, strict=True):
            runs = list(range(1, len(trend.values) + 1))
            panel.plot(runs, trend.values, marker="o", markersize=3)
            if len(runs) >= 2 * last:
                panel.axvspan(runs[-2 * last] - 0.5, runs[-last] - 0.5, color="tab:blue", alpha=0.08)
                panel.axvspan(runs[-last] - 0.5, runs[-1] + 0.5, color="tab:orange", alpha=0.12)
            panel.set_title(f"{trend.name} ({trend.unit}): {trend.verdict}", fontsize=9)
            panel.set_xlabel(f"run ({trend.dates[0][:10]} to {trend.dates[-1][:10]})", fontsize=8)
    return path
