"""The latency-throughput curve as a PNG: p50/p95/p99 against the offered rate (what the run controls), each
point labelled with the rate achieved, the knee and the closed-loop capacity marked."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display

import matplotlib.pyplot as plt

_LINES = (("p50_ms", "p50", "tab:green"), ("p95_ms", "p95", "tab:orange"), ("p99_ms", "p99", "tab:red"))


def plot_curve(curve: Mapping[str, Any], path: Path, title: str) -> Path:
    """Write the curve of a report's load.curve group (Curve.to_report()) to path; return it."""
    points = sorted(curve["points"], key=lambda p: p["offered_rps"])
    if not points:
        raise ValueError("a curve needs at least one point")
    figure, axes = plt.subplots(figsize=(8, 5), dpi=100)
    try:
        offered = [p["offered_rps"] for p in points]
        for key, label, colour in _LINES:
            axes.plot(offered, [p[key] for p in points], marker="o", color=colour, label=label)
        for p in points:
            where = (p["offered_rps"], p["p99_ms"])
            text = f"{p['fraction']:.0%}: {p['achieved_rps']:.0f} achieved"
            axes.annotate(text, where, fontsize=7, xytext=(-20, 6), textcoords="offset points")
        limit = curve["p99_limit_ms"]
        axes.axhline(limit, color="grey", linestyle=":", label=f"p99 limit {limit:.1f} ms")
        capacity = f"closed-loop capacity {curve['capacity_rps']:.0f} req/s"
        axes.axvline(curve["capacity_rps"], color="black", linestyle="--", linewidth=1, label=capacity)
        if curve.get("knee_rps") is not None:
            knee = f"knee {curve['knee_rps']:.0f} req/s offered"
            axes.axvline(curve["knee_rps"], color="tab:purple", linewidth=2, alpha=0.5, label=knee)
        axes.set_yscale("log")
        axes.set_xlabel("offered rate (req/s, paced); labels: share of capacity and rate achieved")
        axes.set_ylabel("latency from intended start (ms, log scale)")
        axes.set_title(title, fontsize=10)
        axes.legend(fontsize=8)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path
