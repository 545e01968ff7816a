"""`trend` as a job: step changes in the A/B history, as Markdown and a picture (needs the `load` extra)."""

from __future__ import annotations

from pathlib import Path

from container_harness.errors import GateInputError
from container_harness.gate.ab_stats import Settings
from container_harness.gate.history import Trend, read_history, trends
from container_harness.jobs.report_commands import write_text
from container_harness.report.trend_render import plot_trends, trend_markdown


def trend_history(
    history: Path, last: int, threshold: float, markdown: Path | None, plot: Path | None
) -> tuple[list[Trend], str]:
    """Each figure's trend over the history with its step-change verdict, and their Markdown; the Markdown
    written when asked and the picture always (default: beside the history, as .png)."""
    found = trends(read_history(history), last, Settings(threshold=threshold))
    if not found:
        raise GateInputError(f"the history {history} holds no entry")
    text = trend_markdown(found, last)
    if markdown is not None:
        write_text(markdown, text)
    plot_trends(found, plot or history.with_suffix(".png"), last)
    return found, text
