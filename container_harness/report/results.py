"""The figures a run measured, recorded under dotted names ("startup.ready_median_s") into one nested dict."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from container_harness.gate.budgets import BudgetOutcome


class Results:
    """Recorder shared by every check of a session; the report is rendered from it at the end."""

    def __init__(
        self,
        on_record: Callable[[str, Any, str | None], None] | None = None,
        on_note: Callable[[str], None] | None = None,
    ) -> None:
        self._on_record = on_record  # told of every figure as it is recorded (the pytest_harness_figure hook)
        self._on_note = on_note  # told of every new note (the plugin issues it as a warning)
        self._figures: dict[str, Any] = {}
        self._units: dict[str, str] = {}
        self._recorded: list[tuple[str, Any]] = []
        self.budgets: list[BudgetOutcome] = []
        self.notes: list[str] = []  # what a reader must know to read the figures (e.g. an overridden setting)

    def record(self, dotted_name: str, value: Any, unit: str | None = None) -> None:
        """Store a figure under a dotted name, replacing an earlier one; unit is kept for rendering."""
        *parents, leaf = dotted_name.split(".")
        node = self._figures
        for key in parents:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ValueError(f"cannot record {dotted_name}: {key} already holds a figure, not a group")
            node = child
        node[leaf] = value
        if unit is not None:
            self._units[dotted_name] = unit
        self._recorded.append((dotted_name, value))
        if self._on_record is not None:
            self._on_record(dotted_name, value, unit)

    def note(self, text: str) -> None:
        """Keep a note for the report and the summary (once, however often it is noted)."""
        if text not in self.notes:
            self.notes.append(text)
            if self._on_note is not None:
                self._on_note(text)

    def add_budget(self, outcome: BudgetOutcome) -> None:
        """Keep a budget's outcome for the report (a re-evaluated budget replaces the earlier outcome)."""
        self.budgets = [kept for kept in self.budgets if kept.name != outcome.name] + [outcome]

    def figures(self) -> dict[str, Any]:
        """A copy of every figure recorded so far, nested by the dotted names."""
        return copy.deepcopy(self._figures)

    def units(self) -> dict[str, str]:
        """Units given at recording time, by dotted name."""
        return dict(self._units)

    def drain(self) -> list[tuple[str, Any]]:
        """Figures recorded since the last call (for attaching them to the test that measured them)."""
        recorded, self._recorded = self._recorded, []
        return recorded
