"""The regression gate: a run's report against a baseline report, figure by figure, with tolerances (pure).

A tolerance names a figure (or a glob over dotted names, "build.*_s"), how much worse it may get (relative,
as a fraction of the baseline, or absolute, in the figure's unit) and which direction is better. Every
numeric figure of the baseline that a tolerance covers is compared; one the report lacks is a regression,
since a gate that passes when a measurement silently disappears guards nothing.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.table import Table
from rich.text import Text

from container_harness.errors import GateInputError
from container_harness.figures import format_figure, lookup

Better = Literal["lower", "higher"]


@dataclass(frozen=True)
class Tolerance:
    """How much worse than the baseline a figure may get; exactly one of relative/absolute is set."""

    pattern: str
    better: Better = "lower"
    relative: float | None = None
    absolute: float | None = None

    def limit(self, baseline: float) -> float:
        """The worst value that still passes."""
        allowance = abs(baseline) * self.relative if self.relative is not None else float(self.absolute or 0)
        return baseline + allowance if self.better == "lower" else baseline - allowance

    def describe(self, unit: str | None) -> str:
        """ "+25 %", "-20 %" or "+5 %-points" style text for the table."""
        sign = "+" if self.better == "lower" else "-"
        if self.relative is not None:
            return f"{sign}{self.relative * 100:g} %"
        if unit == "%" or self.pattern.endswith("_percent"):
            return f"{sign}{self.absolute:g} points"
        return f"{sign}{format_figure(self.absolute, unit)}"


DEFAULT_TOLERANCES: tuple[Tolerance, ...] = (
    Tolerance("image.size_bytes", relative=0.05),
    Tolerance("image.above_base_bytes", relative=0.05),
    Tolerance("build.*_s", relative=0.50),
    Tolerance("startup.ready_median_s", relative=0.50),
    Tolerance("load.p50_ms", relative=0.25),
    Tolerance("load.p95_ms", relative=0.25),
    Tolerance("load.p99_ms", relative=0.25),
    Tolerance("load.rps", better="higher", relative=0.20),
    Tolerance("load.scenario_to_health_ratio", better="higher", relative=0.20),
    Tolerance("load.failures", absolute=0),
    Tolerance("memory.*_bytes", relative=0.20),
    Tolerance("cpu.idle_percent", absolute=5),
)


@dataclass(frozen=True)
class Comparison:
    """One figure compared: measured is None when the report lacks it."""

    name: str
    baseline: float
    measured: float | None
    tolerance: Tolerance
    unit: str | None
    contended: bool = False  # measured while other containers used the engine's CPUs (see the report)

    @property
    def limit(self) -> float:
        return self.tolerance.limit(self.baseline)

    @property
    def ok(self) -> bool:
        if self.measured is None:
            return False
        return (
            self.measured <= self.limit if self.tolerance.better == "lower" else self.measured >= self.limit
        )

    @property
    def verdict(self) -> str:
        """ok, REGRESSION, or inconclusive: worse than allowed, but measured on a contended engine."""
        if self.ok:
            return "ok"
        return "inconclusive" if self.contended and self.measured is not None else "REGRESSION"

    @property
    def change(self) -> str:
        """Relative change for relative tolerances, difference in the figure's unit for absolute ones."""
        if self.measured is None:
            return "missing"
        if self.tolerance.relative is None or self.baseline == 0:
            return f"{self.measured - self.baseline:+.4g}"
        return f"{(self.measured - self.baseline) / abs(self.baseline) * 100:+.1f} %"

    @property
    def message(self) -> str:
        if self.measured is None:
            return f"{self.name} is in the baseline but missing from the report"
        verdict = self.verdict
        if verdict == "inconclusive":
            verdict += " (measured while other containers used the engine's CPUs)"
        return (
            f"{self.name}: {format_figure(self.measured, self.unit)} vs baseline "
            f"{format_figure(self.baseline, self.unit)} ({self.change}, tolerance "
            f"{self.tolerance.describe(self.unit)}): {verdict}"
        )


@dataclass(frozen=True)
class GateResult:
    """All comparisons of a run; passes when every one is ok."""

    comparisons: list[Comparison]

    @property
    def regressions(self) -> list[Comparison]:
        return [comparison for comparison in self.comparisons if comparison.verdict == "REGRESSION"]

    @property
    def inconclusive(self) -> list[Comparison]:
        """Figures worse than allowed that a contended engine measured: reported, never a failure."""
        return [comparison for comparison in self.comparisons if comparison.verdict == "inconclusive"]

    @property
    def ok(self) -> bool:
        return not self.regressions


def numeric_figures(report: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    """Dotted names and values of every numeric scalar (bools excluded) outside budgets/units/environment."""
    for key, value in report.items():
        if not prefix and key in ("budgets", "units", "environment"):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from numeric_figures(value, f"{name}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield name, float(value)


def tolerance_for(name: str, tolerances: Sequence[Tolerance]) -> Tolerance | None:
    """The first tolerance whose pattern matches the dotted name."""
    return next((tolerance for tolerance in tolerances if fnmatch.fnmatchcase(name, tolerance.pattern)), None)


def compare(
    baseline: Mapping[str, Any],
    report: Mapping[str, Any],
    tolerances: Sequence[Tolerance] = DEFAULT_TOLERANCES,
) -> GateResult:
    """Compare every baseline figure a tolerance covers with the report's.

    Figures the report lists under environment.contention.figures were measured while other containers
    used the engine's CPUs: worse than allowed, they are inconclusive rather than regressions.
    """
    units = {**baseline.get("units", {}), **report.get("units", {})}
    contended = set((report.get("environment", {}).get("contention") or {}).get("figures", []))
    comparisons = []
    for name, base_value in numeric_figures(baseline):
        tolerance = tolerance_for(name, tolerances)
        if tolerance is None:
            continue
        measured = lookup(report, name)
        number = (
            float(measured) if isinstance(measured, int | float) and not isinstance(measured, bool) else None
        )
        comparisons.append(Comparison(name, base_value, number, tolerance, units.get(name), name in contended))
    return GateResult(comparisons)


def parse_tolerances(data: Mapping[str, Any], source: str = "tolerances") -> list[Tolerance]:
    """Tolerances from parsed TOML: `[tolerance."load.p95_ms"]` tables with relative|absolute and better."""
    table = data.get("tolerance", {})
    if not isinstance(table, Mapping):
        raise GateInputError(f'{source}: `tolerance` must be a table of tables ([tolerance."figure"])')
    tolerances = []
    for pattern, entry in table.items():
        where = f"{source}: tolerance {pattern!r}"
        if not isinstance(entry, Mapping):
            raise GateInputError(f"{where} must be a table")
        unknown = set(entry) - {"relative", "absolute", "better"}
        if unknown:
            raise GateInputError(
                f"{where} has unknown keys {sorted(unknown)} (use relative, absolute, better)"
            )
        if ("relative" in entry) == ("absolute" in entry):
            raise GateInputError(
                f"{where} needs exactly one of `relative` (fraction, 0.25 = 25 %) or `absolute`"
            )
        amount = entry.get("relative", entry.get("absolute"))
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            raise GateInputError(f"{where}: the allowance must be a number >= 0, got {amount!r}")
        better = entry.get("better", "lower")
        if better not in ("lower", "higher"):
            raise GateInputError(f'{where}: `better` must be "lower" or "higher", got {better!r}')
        tolerances.append(Tolerance(pattern, better, entry.get("relative"), entry.get("absolute")))
    return tolerances


def load_tolerances(path: Path | None) -> list[Tolerance]:
    """The file's tolerances first (they win), then the defaults; only the defaults without a file."""
    if path is None:
        return list(DEFAULT_TOLERANCES)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise GateInputError(
            f"cannot read tolerances file {path}: {exc.strerror or exc}",
            hint=f"check the path ({path.resolve()}); without --tolerances the default tolerances apply",
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise GateInputError(f"tolerances file {path} is not valid TOML: {exc}") from exc
    return [*parse_tolerances(data, str(path)), *DEFAULT_TOLERANCES]


def gate_table(result: GateResult) -> Table:
    """The comparison as a rich table, regressions in red."""
    table = Table(title="regression gate", title_justify="left")
    table.add_column("figure", no_wrap=True)
    for column in ("baseline", "measured", "change", "tolerance", "ok"):
        table.add_column(column)
    for row, comparison in zip(_rows(result), result.comparisons, strict=True):
        style = {"ok": None, "inconclusive": "yellow"}.get(comparison.verdict, "bold red")
        table.add_row(*(Text(cell) for cell in row), style=style)  # Text: a `[` in a figure name is not markup
    return table


def gate_markdown(result: GateResult) -> str:
    """The comparison as a Markdown table with a one-line verdict, for CI job summaries."""
    verdict = "passed" if result.ok else f"failed: {', '.join(c.name for c in result.regressions)}"
    lines = [
        f"### Regression gate {verdict}",
        "",
        "| figure | baseline | measured | change | tolerance | ok |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{row[0]}` | {' | '.join(row[1:5])} | {_MARKS.get(row[5], '❌')} |"
        for row in _rows(result)
    ]
    return "\n".join(lines) + "\n"


_MARKS = {"ok": "✅", "inconclusive": "⚠️ inconclusive (contended)"}


def _rows(result: GateResult) -> list[tuple[str, str, str, str, str, str]]:
    return [
        (
            c.name,
            format_figure(c.baseline, c.unit),
            "missing" if c.measured is None else format_figure(c.measured, c.unit),
            c.change,
            c.tolerance.describe(c.unit),
            c.verdict,
        )
        for c in result.comparisons
    ]
