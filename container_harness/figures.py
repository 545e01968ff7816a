"""Figures: finding one in a report by its dotted name and writing it for people (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["format_figure", "lookup"]


def lookup(figures: Mapping[str, Any], dotted_name: str) -> Any:
    """The figure at a dotted path, or None when any part of the path is missing."""
    node: Any = figures
    for key in dotted_name.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def format_figure(value: Any, unit: str | None = None, exact: bool = True) -> str:
    """A figure for people: bytes in decimal units (with the exact count unless exact=False), seconds and
    percent rounded."""
    if isinstance(value, list):
        return "[" + ", ".join(format_figure(item, unit, exact=False) for item in value) + "]"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if unit == "bytes":
        for size, name in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
            if abs(value) >= size:
                short = f"{value / size:.2f} {name}"
                return f"{short} ({int(value):,} bytes)" if exact else short
        return f"{int(value)} bytes"
    if unit in ("s", "ms", "%"):
        return f"{value:.3g} {unit}" if abs(value) < 100 else f"{value:.1f} {unit}"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}" if unit else text
