"""A grid of small plots, one panel per figure, written to a PNG (shared by the A/B and trend pictures)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display, and no GUI toolkit imported inside test processes

import matplotlib.pyplot as plt

_COLUMNS = 2


@contextmanager
def panel_grid(count: int, path: Path, title: str | None = None) -> Iterator[list[Any]]:
    """Yield `count` axes in a two-column grid; on leaving, blank the spare panels and save the PNG at path."""
    if count < 1:
        raise ValueError("no figures to plot")
    rows = math.ceil(count / _COLUMNS)
    figure, axes = plt.subplots(rows, _COLUMNS, figsize=(11, 3 * rows), dpi=100, squeeze=False)
    try:
        panels = list(axes.flat)
        yield panels[:count]
        for spare in panels[count:]:
            spare.axis("off")
        if title:
            figure.suptitle(title, fontsize=10)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        plt.close(figure)
