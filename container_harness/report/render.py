"""The run's report: report.json, a Markdown summary for CI job summaries, a rich table, JUnit properties.

Everything renders from one dict (build_report's), so the four views cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rich.table import Table

from container_harness.figures import format_figure
from container_harness.gate.budgets import BudgetOutcome

# Figures too bulky for a summary line (they stay in report.json).
_SUMMARY_SKIPS = ("environment",)
_MAX_LIST_IN_SUMMARY = 10
_MAX_FLAT_GROUP = 4
_MAX_TEXT = 72


def build_report(
    figures: Mapping[str, Any],
    units: Mapping[str, str],
    budgets: list[BudgetOutcome],
    environment: Mapping[str, Any],
) -> dict[str, Any]:
    """report.json's content: the figures as recorded, the budgets' outcomes, the environment and units."""
    report = {key: value for key, value in figures.items() if key not in ("environment", "notes")}
    report["budgets"] = [outcome.to_report() for outcome in budgets]
    report["environment"] = {**figures.get("environment", {}), **environment}
    report["units"] = dict(units)
    return report


def write_json(report: Mapping[str, Any], path: Path) -> Path:
    """Write the report (parents created) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=False, default=str) + "\n")
    return path


def summary_rows(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(dotted name, formatted value) for every scalar figure and short list of numbers, in report order."""
    units = report.get("units", {})
    return [(name, format_figure(value, units.get(name), exact=False)) for name, value in _leaves(report)]


def budget_rows(report: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(budget, measured, limit, verdict) per budget outcome."""
    rows = []
    for outcome in report.get("budgets", []):
        unit = outcome["unit"]
        measured = outcome["measured"]
        measured = "not measured" if measured is None else format_figure(measured, unit, exact=False)
        limit = f"{outcome['comparison']} {format_figure(outcome['limit'], unit, exact=False)}"
        rows.append((outcome["name"], measured, limit, "ok" if outcome["ok"] else "FAIL"))
    return rows


def render_markdown(report: Mapping[str, Any]) -> str:
    """A Markdown summary (figures, then budgets) for $GITHUB_STEP_SUMMARY and the like."""
    lines = ["## Container harness report", ""]
    image = report.get("image", {})
    if image.get("tag"):
        lines += [f"Image `{image['tag']}` (`{str(image.get('id', ''))[:19]}`)", ""]
    lines += [f"> **Note:** {note}" for note in report.get("notes", [])]
    if report.get("notes"):
        lines.append("")
    budgets = budget_rows(report)
    if budgets:
        failed = sum(1 for row in budgets if row[3] != "ok")
        lines += [f"**Budgets: {len(budgets) - failed} ok, {failed} failed**", ""]
        lines += ["| budget | measured | limit | result |", "|---|---|---|---|"]
        lines += [
            f"| `{name}` | {measured} | {limit} | {'✅' if verdict == 'ok' else '❌'} |"
            for name, measured, limit, verdict in budgets
        ]
        lines.append("")
    lines += ["| figure | value |", "|---|---|"]
    lines += [f"| `{name}` | {value} |" for name, value in summary_rows(report)]
    environment = report.get("environment", {})
    if environment:
        facts = ", ".join(
            f"{key} {value}" for key, value in environment.items() if not isinstance(value, dict)
        )
        lines += ["", f"Environment: {facts}"]
    return "\n".join(lines) + "\n"


def render_rich_table(report: Mapping[str, Any]) -> list[Table]:
    """Rich tables for the terminal summary: the budgets (if any), then the figures."""
    tables = []
    budgets = budget_rows(report)
    if budgets:
        table = Table(title="harness budgets", title_justify="left")
        for column in ("budget", "measured", "limit", "result"):
            table.add_column(column, no_wrap=column != "budget")
        for name, measured, limit, verdict in budgets:
            table.add_row(name, measured, limit, verdict, style=None if verdict == "ok" else "bold red")
        tables.append(table)
    figures = Table(title="harness figures", title_justify="left")
    figures.add_column("figure", no_wrap=True)
    figures.add_column("value", overflow="fold")
    for name, value in summary_rows(report):
        figures.add_row(name, value)
    tables.append(figures)
    return tables


def junit_properties(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Suite-level JUnit properties: each summary figure and each budget's verdict."""
    properties = [(f"harness.{name}", value) for name, value in summary_rows(report)]
    properties += [
        (f"harness.budget.{name}", f"{verdict}: {measured} (limit {limit})")
        for name, measured, limit, verdict in budget_rows(report)
    ]
    return properties


def _leaves(node: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Dotted names and values worth a summary line, in report order.

    Numbers (and short lists of numbers) at any depth; text only one level down (image.tag, not every
    image.env entry); a small flat group (a spread, a volume answer) as one `key=value, ...` line.
    """
    for key, value in node.items():
        name = f"{prefix}{key}"
        if not prefix and key in (*_SUMMARY_SKIPS, "budgets", "units"):
            continue
        if isinstance(value, Mapping):
            if prefix and _is_flat(value):
                yield name, ", ".join(f"{k}={_short(v)}" for k, v in value.items())
            else:
                yield from _leaves(value, f"{name}.")
        elif isinstance(value, list):
            if 0 < len(value) <= _MAX_LIST_IN_SUMMARY and all(_is_number(item) for item in value):
                yield name, value
        elif (
            _is_number(value) or isinstance(value, bool) or (isinstance(value, str) and name.count(".") <= 1)
        ):
            yield name, _short(value) if isinstance(value, str) else value


def _is_flat(group: Mapping[str, Any]) -> bool:
    """A group of at most four scalars, shown on one line."""
    return 0 < len(group) <= _MAX_FLAT_GROUP and all(
        value is None or isinstance(value, str | int | float | bool) for value in group.values()
    )


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
