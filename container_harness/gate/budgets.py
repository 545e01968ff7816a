"""Budgets: limits on measured figures, read from TOML and compared with what a run measured (pure)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from container_harness.errors import BudgetFileError
from container_harness.figures import format_figure, lookup


@dataclass(frozen=True)
class Budget:
    """A limit on one figure, named by its dotted path in the report ("image.size_bytes")."""

    name: str
    max: float | None = None
    min: float | None = None
    unit: str | None = None
    note: str | None = None

    @property
    def limit(self) -> float:
        """The limiting value (max when both are set, as only one is allowed)."""
        value = self.max if self.max is not None else self.min
        assert value is not None  # enforced by load_budgets
        return value

    @property
    def comparison(self) -> str:
        """ "<=" for a maximum, ">=" for a minimum."""
        return "<=" if self.max is not None else ">="


@dataclass(frozen=True)
class BudgetOutcome:
    """A budget compared with the run: measured is None when the figure was never recorded."""

    name: str
    limit: float
    comparison: str
    measured: float | None
    unit: str | None
    ok: bool
    message: str

    def to_report(self) -> dict[str, Any]:
        """The outcome as report.json lists it."""
        return {
            "name": self.name,
            "limit": self.limit,
            "comparison": self.comparison,
            "measured": self.measured,
            "unit": self.unit,
            "ok": self.ok,
            "message": self.message,
        }


def load_budgets(path: Path) -> list[Budget]:
    """Budgets from a TOML file of `[[budget]]` tables: name, one of max/min, optional unit and note."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise BudgetFileError(
            f"budgets file {path} does not exist (looked for {path.resolve()})",
            hint="create it ([[budget]] tables with name and max or min) or remove the `budgets` setting",
        ) from exc
    except OSError as exc:
        raise BudgetFileError(
            f"cannot read budgets file {path}: {exc.strerror or exc}",
            hint="set budgets to a readable TOML file of [[budget]] tables, or leave it unset for none",
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise BudgetFileError(f"budgets file {path} is not valid TOML: {exc}") from exc
    return parse_budgets(data, source=str(path))


def parse_budgets(data: Mapping[str, Any], source: str = "budgets") -> list[Budget]:
    """Budgets from already-parsed TOML; names must be unique."""
    entries = data.get("budget", [])
    if not isinstance(entries, list):
        raise BudgetFileError(f"{source}: `budget` must be an array of tables ([[budget]])")
    budgets: list[Budget] = []
    for index, entry in enumerate(entries, start=1):
        where = f"{source}: budget #{index}"
        unknown = set(entry) - {"name", "max", "min", "unit", "note"}
        if unknown:
            raise BudgetFileError(f"{where} has unknown keys {sorted(unknown)}")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise BudgetFileError(
                f"{where} needs a `name`: the dotted figure it limits, e.g. image.size_bytes"
            )
        if ("max" in entry) == ("min" in entry):
            raise BudgetFileError(f"{where} ({name}) needs exactly one of `max` or `min`")
        limit = entry.get("max", entry.get("min"))
        if isinstance(limit, bool) or not isinstance(limit, int | float):
            raise BudgetFileError(f"{where} ({name}): the limit must be a number, got {limit!r}")
        if any(kept.name == name for kept in budgets):
            raise BudgetFileError(f"{where}: {name} is budgeted twice")
        budgets.append(
            Budget(
                name=name,
                max=entry.get("max"),
                min=entry.get("min"),
                unit=entry.get("unit"),
                note=entry.get("note"),
            )
        )
    return budgets


def evaluate(budget: Budget, figures: Mapping[str, Any]) -> BudgetOutcome:
    """Compare one budget with the figures; a missing or non-numeric figure fails, naming the figure.

    For a list of runs, every run must be within the limit; the worst one is reported.
    """
    value = lookup(figures, budget.name)
    limit_text = f"{budget.comparison} {format_figure(budget.limit, budget.unit)}"
    if value is None:
        return _outcome(
            budget,
            None,
            False,
            f"{budget.name} was not measured (the check that records it failed or did not run); "
            f"budget {limit_text}",
        )
    numbers = value if isinstance(value, list) else [value]
    if not numbers or any(isinstance(n, bool) or not isinstance(n, int | float) for n in numbers):
        return _outcome(
            budget, None, False, f"{budget.name} is not a number ({value!r}); budget {limit_text}"
        )
    measured = float(max(numbers) if budget.max is not None else min(numbers))
    ok = measured <= budget.limit if budget.max is not None else measured >= budget.limit
    verdict = "within budget" if ok else "OVER BUDGET" if budget.max is not None else "UNDER BUDGET"
    return _outcome(
        budget,
        measured,
        ok,
        f"{budget.name}: measured {format_figure(measured, budget.unit)}, limit {limit_text}: {verdict}",
    )


def _outcome(budget: Budget, measured: float | None, ok: bool, message: str) -> BudgetOutcome:
    return BudgetOutcome(
        name=budget.name,
        limit=budget.limit,
        comparison=budget.comparison,
        measured=measured,
        unit=budget.unit,
        ok=ok,
        message=message,
    )


