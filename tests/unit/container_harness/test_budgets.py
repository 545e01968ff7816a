"""Budgets: reading the TOML file and comparing limits with measured figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from container_harness.errors import BudgetFileError
from container_harness.figures import format_figure
from container_harness.gate.budgets import Budget, evaluate, load_budgets, parse_budgets

FIGURES = {
    "image": {"size_bytes": 1_210_000_000, "tag": "api:latest"},
    "startup": {"ready_s": [0.8, 1.2, 3.5], "ready_median_s": 1.2},
    "cpu": {"idle_percent": 0.4},
}


def test_load_budgets_reads_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text(
        '[[budget]]\nname = "image.size_bytes"\nmax = 1_500_000_000\nunit = "bytes"\n\n'
        '[[budget]]\nname = "load.rps"\nmin = 50\nunit = "req/s"\nnote = "throughput floor"\n'
    )
    assert load_budgets(path) == [
        Budget(name="image.size_bytes", max=1_500_000_000, unit="bytes"),
        Budget(name="load.rps", min=50, unit="req/s", note="throughput floor"),
    ]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"max": 1}, "needs a `name`"),
        ({"name": "a.b"}, "exactly one of `max` or `min`"),
        ({"name": "a.b", "max": 1, "min": 0}, "exactly one of `max` or `min`"),
        ({"name": "a.b", "max": "1 GB"}, "must be a number"),
        ({"name": "a.b", "max": 1, "limit": 2}, "unknown keys"),
    ],
)
def test_malformed_budget_entries_are_refused(entry: dict[str, object], problem: str) -> None:
    with pytest.raises(BudgetFileError, match=problem):
        parse_budgets({"budget": [entry]})


def test_a_figure_budgeted_twice_is_refused() -> None:
    with pytest.raises(BudgetFileError, match="budgeted twice"):
        parse_budgets({"budget": [{"name": "a.b", "max": 1}, {"name": "a.b", "max": 2}]})


def test_missing_budgets_file_is_named_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(BudgetFileError, match=r"nope\.toml does not exist") as raised:
        load_budgets(tmp_path / "nope.toml")
    assert raised.value.hint.startswith("create it ([[budget]] tables")
    assert raised.value.hint.endswith("or remove the `budgets` setting")


def test_a_budgets_path_that_cannot_be_read_is_a_budgets_error(tmp_path: Path) -> None:
    with pytest.raises(BudgetFileError, match=r"cannot read budgets file .*: Is a directory"):
        load_budgets(tmp_path)


def test_maximum_within_budget_passes_and_shows_both_figures() -> None:
    outcome = evaluate(Budget(name="image.size_bytes", max=1_500_000_000, unit="bytes"), FIGURES)
    assert outcome.ok
    assert outcome.measured == 1_210_000_000
    assert "measured 1.21 GB (1,210,000,000 bytes)" in outcome.message
    assert "limit <= 1.50 GB (1,500,000,000 bytes)" in outcome.message


def test_maximum_exceeded_fails_with_measured_and_limit() -> None:
    outcome = evaluate(Budget(name="image.size_bytes", max=1, unit="bytes"), FIGURES)
    assert not outcome.ok
    assert outcome.message == (
        "image.size_bytes: measured 1.21 GB (1,210,000,000 bytes), limit <= 1 bytes: OVER BUDGET"
    )


def test_minimum_budget_fails_below_the_floor() -> None:
    outcome = evaluate(Budget(name="cpu.idle_percent", min=1.0, unit="%"), FIGURES)
    assert (outcome.ok, outcome.comparison, outcome.measured) == (False, ">=", 0.4)
    assert "UNDER BUDGET" in outcome.message


def test_list_figures_are_judged_by_their_worst_run() -> None:
    outcome = evaluate(Budget(name="startup.ready_s", max=3.0, unit="s"), FIGURES)
    assert (outcome.ok, outcome.measured) == (False, 3.5)


def test_a_figure_that_was_not_measured_fails_naming_it() -> None:
    outcome = evaluate(Budget(name="memory.idle_bytes", max=1e9, unit="bytes"), FIGURES)
    assert not outcome.ok
    assert outcome.measured is None
    assert outcome.message.startswith("memory.idle_bytes was not measured")


def test_a_non_numeric_figure_fails() -> None:
    outcome = evaluate(Budget(name="image.tag", max=1), FIGURES)
    assert not outcome.ok
    assert "is not a number ('api:latest')" in outcome.message


def test_a_group_instead_of_a_figure_fails() -> None:
    assert not evaluate(Budget(name="startup", max=1), FIGURES).ok


def test_outcome_report_has_the_fields_report_json_lists() -> None:
    report = evaluate(Budget(name="startup.ready_median_s", max=10, unit="s"), FIGURES).to_report()
    assert {key: report[key] for key in ("name", "limit", "measured", "unit", "ok")} == {
        "name": "startup.ready_median_s",
        "limit": 10,
        "measured": 1.2,
        "unit": "s",
        "ok": True,
    }


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (512, "bytes", "512 bytes"),
        (61_440, "bytes", "61.44 kB (61,440 bytes)"),
        (0.01234, "s", "0.0123 s"),
        (123.456, "s", "123.5 s"),
        (3, None, "3"),
        ([0.5, 1.25], "s", "[0.5 s, 1.25 s]"),
        ("sha256:ab", None, "sha256:ab"),
    ],
)
def test_format_figure(value: object, unit: str | None, text: str) -> None:
    assert format_figure(value, unit) == text
