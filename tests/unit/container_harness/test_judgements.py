"""The built-in checks' judgements, each shown failing on a made-up case and passing on captured figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from container_harness.image.layer_waste import wasted_bytes
from container_harness.measure.usage import memory_bytes
from container_harness.pytest_plugin.judgements import no_memory_reported, smaller_than_base, waste_beyond_layers

PAYLOADS = Path(__file__).parent / "payloads"


def test_an_image_smaller_than_the_base_it_names_fails_image_size() -> None:
    problem = smaller_than_base(5_000_000, "python:3.11-slim", 120_000_000)
    assert problem is not None
    assert "smaller than its base python:3.11-slim" in problem
    assert smaller_than_base(125_000_000, "python:3.11-slim", 120_000_000) is None
    assert smaller_than_base(5_000_000, None, None) is None  # no base measured: nothing to compare


def test_more_waste_than_the_layers_hold_fails_wasted_bytes() -> None:
    problem = waste_beyond_layers(3_000, [1_000, 1_500])
    assert problem is not None
    assert "more than all 2 layers hold" in problem
    layers = json.loads((PAYLOADS / "layers_wasteful.json").read_text())
    captured = wasted_bytes(layers).total_bytes
    layer_sizes = [sum(size or 0 for size in layer.values()) for layer in layers]
    assert captured > 0
    assert waste_beyond_layers(captured, layer_sizes) is None


def test_stats_without_memory_figures_fail_idle_usage() -> None:
    no_accounting: dict[str, Any] = {"memory_stats": {}, "cpu_stats": {}, "precpu_stats": {}}
    problem = no_memory_reported(memory_bytes(no_accounting), "harness-abc")
    assert problem is not None
    assert "reported no memory use for harness-abc" in problem
    captured = json.loads((PAYLOADS / "stats_idle.json").read_text())
    assert no_memory_reported(memory_bytes(captured), "harness-abc") is None
