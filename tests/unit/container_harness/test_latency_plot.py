"""The load run's pictures: histogram per endpoint with the clipped tail, and latency over time."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from container_harness.load.latency import RawRequest
from container_harness.report.latency_plot import plot_latency_histogram, plot_latency_over_time


def test_histogram_per_endpoint_writes_a_png(tmp_path: Path) -> None:
    times = {"fast": [1.0 + i % 7 for i in range(500)], "slow": [30.0 + i % 5 for i in range(100)] + [900.0]}
    path = plot_latency_histogram(times, tmp_path / "out" / "histogram.png", "tiny")
    assert Image.open(path).size == (800, 500)


def test_latency_over_time_writes_a_png(tmp_path: Path) -> None:
    records = [RawRequest(1000.0 + i * 0.01, "fast" if i % 4 else "slow", 1.0 + i % 9, True) for i in range(600)]
    path = plot_latency_over_time(records, 1.0, tmp_path / "over_time.png", "tiny")
    assert Image.open(path).size == (900, 450)


def test_nothing_to_plot_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no response times"):
        plot_latency_histogram({"fast": []}, tmp_path / "h.png")
    with pytest.raises(ValueError, match="no requests"):
        plot_latency_over_time([], 1.0, tmp_path / "t.png", "tiny")
