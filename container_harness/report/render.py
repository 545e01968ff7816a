"""The run's report: report.json, a Markdown summary for CI job summaries, a rich table, JUnit properties.

Everything renders from one dict (build_report's), so the four views cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from container_harness.errors import ConfigError
from container_harness.figures import format_figure, lookup
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


def read_baseline(path: Path | None) -> dict[str, Any] | None:
    """The baseline report.json that report.md shows changes against (None when none is configured)."""
    if path is None:
        return None
    try:
        baseline: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"baseline {path} cannot be read as a report.json: {exc}") from exc
    return baseline


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


def render_markdown(report: Mapping[str, Any], baseline: Mapping[str, Any] | None = None) -> str:
    """A Markdown summary for $GITHUB_STEP_SUMMARY and the like: image and commit, budgets, latency per
    endpoint, the load run's pictures, then every figure (with its change against `baseline`, a report.json,
    when given)."""
    lines = ["## Container harness report", "", *_heading(report), *_budget_table(report)]
    lines += _endpoint_table(report.get("load", {}))
    lines += _pictures(report)
    lines += _figure_table(report, baseline)
    environment = report.get("environment", {})
    if environment:
        facts = ", ".join(f"{key} {value}" for key, value in environment.items() if not isinstance(value, dict))
        lines += ["", f"Environment: {facts}"]
    return "\n".join(lines) + "\n"


def _heading(report: Mapping[str, Any]) -> list[str]:
    """The image and commit measured, then the report's notes as quoted notes."""
    lines = []
    image = report.get("image", {})
    if image.get("tag"):
        lines += [f"Image `{image['tag']}` (`{str(image.get('id', ''))[:19]}`)", ""]
    if report.get("environment", {}).get("commit"):
        lines += [f"Commit `{report['environment']['commit']}`", ""]
    lines += [f"> **Note:** {note}" for note in report.get("notes", [])]
    if report.get("notes"):
        lines.append("")
    return lines


def _budget_table(report: Mapping[str, Any]) -> list[str]:
    """The budgets' count of ok and failed, and one row per budget (nothing when there are none)."""
    budgets = budget_rows(report)
    if not budgets:
        return []
    failed = sum(1 for row in budgets if row[3] != "ok")
    return [
        f"**Budgets: {len(budgets) - failed} ok, {failed} failed**",
        "",
        "| budget | measured | limit | result |",
        "|---|---|---|---|",
        *(
            f"| `{name}` | {measured} | {limit} | {'✅' if verdict == 'ok' else '❌'} |"
            for name, measured, limit, verdict in budgets
        ),
        "",
    ]


def _figure_table(report: Mapping[str, Any], baseline: Mapping[str, Any] | None) -> list[str]:
    """Every summary figure, with its baseline value and change when a baseline is given."""
    if baseline is None:
        return ["| figure | value |", "|---|---|", *(f"| `{name}` | {value} |" for name, value in summary_rows(report))]
    return [
        "| figure | value | baseline | change |",
        "|---|---|---|---|",
        *(
            f"| `{name}` | {value} | {_delta(lookup(report, name), lookup(baseline, name), report, name)} |"
            for name, value in summary_rows(report)
        ),
    ]


def _endpoint_table(load: Mapping[str, Any]) -> list[str]:
    """Exact latency per endpoint (and overall) as a Markdown table, when the run recorded any."""
    endpoints = load.get("endpoints") or {}
    if not endpoints:
        return []
    columns = ("requests", "rps", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms")
    lines = ["**Latency per endpoint** (ms, exact, after the warm-up)", ""]
    lines += ["| endpoint | requests | req/s | p50 | p90 | p95 | p99 | max |", "|---|" + "---:|" * len(columns)]
    rows = [*endpoints.items(), ("all", load)]
    for name, figures in rows:
        cells = [_cell(figures.get(column)) for column in columns]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _pictures(report: Mapping[str, Any]) -> list[str]:
    """Image links to the run's PNGs (paths are relative to the reports directory, where report.md sits)."""
    load = report.get("load", {})
    pictures = [(key, load.get(key)) for key in ("curve_png", "histogram", "latency_over_time")]
    return [line for key, path in pictures if path for line in (f"![{key.replace('_', ' ')}]({path})", "")]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def _delta(value: Any, base: Any, report: Mapping[str, Any], name: str) -> str:
    """The baseline's value and the relative change, for numbers present in both; blank otherwise."""
    if not (_is_number(value) and _is_number(base)):
        return " | "
    shown = format_figure(base, report.get("units", {}).get(name), exact=False)
    if base == 0:
        return f"{shown} | "
    return f"{shown} | {(value - base) / abs(base) * 100:+.1f} %"


def render_rich_table(report: Mapping[str, Any]) -> list[Table]:
    """Rich tables for the terminal summary: the budgets (if any), then the figures."""
    tables = []
    budgets = budget_rows(report)
    if budgets:
        # Names never shrink (a CI log at 80 columns must show every one); measured values and limits fold.
        table = Table(title="harness budgets", title_justify="left")
        table.add_column("budget", no_wrap=True, min_width=max(len(row[0]) for row in budgets))
        table.add_column("measured", overflow="fold")
        table.add_column("limit", overflow="fold")
        table.add_column("result", no_wrap=True, min_width=len("result"))
        for name, measured, limit, verdict in budgets:
            cells = (Text(cell) for cell in (name, measured, limit, verdict))  # Text: a `[` in a value is not markup
            table.add_row(*cells, style=None if verdict == "ok" else "bold red")
        tables.append(table)
    figures = Table(title="harness figures", title_justify="left")
    figures.add_column("figure", no_wrap=True)
    figures.add_column("value", overflow="fold")
    for name, value in summary_rows(report):
        figures.add_row(Text(name), Text(value))
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
        elif _worth_a_line(name, value):
            yield name, _short(value) if isinstance(value, str) else value


def _worth_a_line(name: str, value: Any) -> bool:
    """A number, a bool, a short list of numbers, or text at most one level down."""
    if isinstance(value, list):
        return 0 < len(value) <= _MAX_LIST_IN_SUMMARY and all(_is_number(item) for item in value)
    return _is_number(value) or isinstance(value, bool) or (isinstance(value, str) and name.count(".") <= 1)


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
