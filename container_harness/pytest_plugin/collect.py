"""The collector that turns the selected built-in checks into test items, and where they go among the run's.

A `pytest.Module` over a module object made for the selection, so items get pytest's own fixtures,
parametrization (one budget per item) and markers, and node ids `container-harness::<check>`.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from container_harness.pytest_plugin import checks
from container_harness.pytest_plugin.catalogue import Check

NODE_NAME = "container-harness"
CHECK_KEY = pytest.StashKey["Check"]()
BUDGET_FIXTURE = "harness_budget"  # the budgets check's argument: one item per budget
_LATE = ("load", "budgets")  # stages of built-in checks that run after users' own tests


class HarnessChecks(pytest.Module):
    """The built-in checks a run selected, as one module-like collector under the session."""

    selection: Sequence[Check] = ()

    @classmethod
    def for_session(cls, session: pytest.Session, selection: Sequence[Check]) -> HarnessChecks:
        """The collector for these checks, a direct child of the session."""
        collector: HarnessChecks = cls.from_parent(
            session, path=Path(checks.__file__), name=NODE_NAME, nodeid=NODE_NAME
        )
        collector.selection = tuple(selection)
        # Through the public `obj` setter: pytest never imports a module for this collector, and looks the
        # items' functions up in this one.
        collector.obj = _module_of(collector.selection)
        return collector

    def istestfunction(self, obj: object, name: str) -> bool:
        """Only the selected checks are tests, whatever the user's python_functions setting says."""
        return any(check.name == name for check in self.selection)

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        """One item per check (budgets: one per budget), in the selection's order, each knowing its check."""
        items: list[pytest.Item | pytest.Collector] = []
        for check in self.selection:
            made = self.ihook.pytest_pycollect_makeitem(collector=self, name=check.name, obj=check.function)
            for item in _flat(made):
                item.stash[CHECK_KEY] = check
                items.append(item)
        return items


def place_checks(session: pytest.Session, selection: Sequence[Check], items: list[pytest.Item]) -> None:
    """Add the selection's items around the collected ones: checks up to the measuring stage first, users' tests
    next, the load check and budgets after them; reported like any collected module, so "collected N" counts them.
    """
    collector = HarnessChecks.for_session(session, selection)
    made = [item for item in collector.collect() if isinstance(item, pytest.Item)]
    session.config.hook.pytest_collectreport(report=pytest.CollectReport(collector.nodeid, "passed", None, list(made)))
    late = [item for item in made if (check := check_of(item)) is not None and check.stage in _LATE]
    items[:] = [item for item in made if item not in late] + items + late


def budgets_last(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Budget items run last; one left without a budget (no budgets file to parametrize it) is deselected."""
    dropped = [item for item in items if _is_budget(item) and getattr(item, "callspec", None) is None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    kept = [item for item in items if item not in dropped]
    items[:] = [item for item in kept if not _is_budget(item)] + [item for item in kept if _is_budget(item)]


def _is_budget(item: pytest.Item) -> bool:
    return BUDGET_FIXTURE in getattr(item, "fixturenames", ())


def _module_of(selection: Sequence[Check]) -> types.ModuleType:
    """A module holding exactly the selected check functions, under their names."""
    module = types.ModuleType(f"{checks.__name__}[selected]")
    for check in selection:
        setattr(module, check.name, check.function)
    return module


def _flat(made: object) -> Iterable[pytest.Item]:
    """pytest_pycollect_makeitem answers with an item, a list or a generator of them, or None."""
    if made is None:
        return []
    if isinstance(made, pytest.Item):
        return [made]
    return [item for item in made if isinstance(item, pytest.Item)]  # type: ignore[attr-defined]


def check_of(item: pytest.Item) -> Check | None:
    """The built-in check an item runs, or None for a user's test."""
    return item.stash.get(CHECK_KEY, None)
