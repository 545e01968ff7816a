"""The collector that turns the selected built-in checks into test items, in the catalogue's order.

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
