"""Latency histogram of a load run, with its p50/p95/p99 marked, as a PNG for the report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, and no GUI toolkit imported inside test processes

import matplotlib.pyplot as plt

from container_harness.summary import percentile

_MARKS = ((50, "tab:green"), (95, "tab:orange"), (99, "tab:red"))


def plot_latency_histogram(times_ms: Sequence[float], path: Path, title: str = "response times") -> Path:
    """Write a histogram of times_ms (clipped at p99.9, so the tail does not squash the body); return path."""
    if not times_ms:
        raise ValueError("no response times to plot")
    upper = percentile(times_ms, 99.9)
    figure, axes = plt.subplots(figsize=(8, 5), dpi=100)
    try:
        axes.hist([min(t, upper) for t in times_ms], bins=80, color="tab:blue", alpha=0.75)
        for q, colour in _MARKS:
            value = percentile(times_ms, q)
            axes.axvline(value, color=colour, linestyle="--", label=f"p{q} {value:.2f} ms")
        axes.set_xlabel("response time (ms)")
        axes.set_ylabel("requests")
        axes.set_title(f"{title}\n{len(times_ms):,} requests; last bin: all above p99.9", fontsize=10)
        axes.legend()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path
