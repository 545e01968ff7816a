"""Load-run pictures for the report (PNG): the latency histogram per endpoint with its clipped tail marked, and
latency over time (warm-up, steady state, stalls)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, and no GUI toolkit imported inside test processes

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from container_harness.load.latency import RawRequest
from container_harness.summary import percentile

_MARKS = ((50, ":"), (95, "--"), (99, "-."))
_CLIP_PERCENTILE = 99.9
_BINS = 80


def plot_latency_histogram(
    times_by_endpoint: Mapping[str, Sequence[float]], path: Path, title: str = "response times"
) -> Path:
    """One histogram per endpoint on shared bins up to the overall p99.9 (so the tail does not squash the
    body), each endpoint's p50/p95/p99 marked; the clipped requests land in the last bin, which is hatched and
    labelled with their count and the maximum. Returns path."""
    every = [t for times in times_by_endpoint.values() for t in times]
    if not every:
        raise ValueError("no response times to plot")
    upper = percentile(every, _CLIP_PERCENTILE)
    bins = [upper * i / _BINS for i in range(_BINS + 1)]
    figure, axes = plt.subplots(figsize=(8, 5), dpi=100)
    try:
        for index, (name, times) in enumerate(sorted(times_by_endpoint.items())):
            colour = f"C{index}"
            clipped_times = [min(t, upper) for t in times]
            axes.hist(clipped_times, bins=bins, color=colour, alpha=0.55, label=f"{name} ({len(times):,})")
            for q, style in _MARKS:
                axes.axvline(percentile(times, q), color=colour, linestyle=style, linewidth=1)
        clipped = [t for t in every if t > upper]
        if clipped:
            axes.axvspan(bins[-2], upper, facecolor="none", edgecolor="black", hatch="//", linewidth=0)
            axes.annotate(
                f"{len(clipped):,} above {upper:.1f} ms\n(max {max(clipped):.1f} ms)",
                xy=(upper, axes.get_ylim()[1] * 0.9),
                ha="right",
                fontsize=8,
            )
        axes.set_xlabel("response time (ms); lines: p50 dotted, p95 dashed, p99 dash-dot")
        axes.set_ylabel("requests")
        axes.set_title(f"{title}\n{len(every):,} requests; last bin holds everything above p99.9", fontsize=10)
        axes.legend(fontsize=8)
        return _save(figure, path)
    finally:
        plt.close(figure)


def plot_latency_over_time(records: Sequence[RawRequest], warmup_s: float, path: Path, title: str) -> Path:
    """Every request's response time against its start (seconds into the run), one colour per endpoint, with
    the warm-up shaded and each second's p99 drawn: warm-up, steady state and stalls show. Returns path."""
    if not records:
        raise ValueError("no requests to plot")
    first = min(record.start for record in records)
    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=100)
    try:
        names = sorted({record.name for record in records})
        for index, name in enumerate(names):
            mine = [record for record in records if record.name == name]
            starts = [record.start - first for record in mine]
            times = [record.response_ms for record in mine]
            axes.scatter(starts, times, s=3, color=f"C{index}", alpha=0.4, label=name)
        by_second: dict[int, list[float]] = {}
        for record in records:
            by_second.setdefault(int(record.start - first), []).append(record.response_ms)
        seconds = sorted(by_second)
        p99s = [percentile(by_second[second], 99) for second in seconds]
        axes.plot([second + 0.5 for second in seconds], p99s, color="black", label="p99 per second")
        axes.axvspan(0, warmup_s, color="grey", alpha=0.15, label="warm-up (not measured)")
        axes.set_yscale("log")
        axes.set_xlabel("seconds since the first request")
        axes.set_ylabel("response time (ms, log scale)")
        axes.set_title(title, fontsize=10)
        axes.legend(fontsize=8, markerscale=3)
        return _save(figure, path)
    finally:
        plt.close(figure)


def _save(figure: Figure, path: Path) -> Path:
    """Write the figure as a PNG (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path)
    return path
