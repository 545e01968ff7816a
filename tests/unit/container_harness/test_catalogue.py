"""The built-in checks' catalogue: order, support, and that every default tolerance and budget is measurable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import container_harness
from container_harness.config import HarnessConfig
from container_harness.gate.baseline import DEFAULT_TOLERANCES, load_tolerances
from container_harness.gate.budgets import load_budgets
from container_harness.pytest_plugin import catalogue

ROOT = Path(__file__).resolve().parents[3]


def _config(**keys: object) -> HarnessConfig:
    return HarnessConfig.model_validate({"tag": "x:y", "run": {"port": 80}, **keys})


def test_every_check_comes_after_what_it_needs_and_stages_never_go_back() -> None:
    order = catalogue.ordered(catalogue.BUILTIN)
    names = [check.name for check in order]
    for check in order:
        assert all(names.index(need) < names.index(check.name) for need in check.needs)
    stages = [catalogue.STAGES.index(check.stage) for check in order]
    assert stages == sorted(stages)


def test_the_default_selection_is_what_the_configuration_supports() -> None:
    minimal = [check.name for check in catalogue.select(_config(), None)]
    assert minimal == [
        "full_build", "cached_rebuild", "image_size", "image_config", "wasted_bytes", "startup",
        "docker_health", "idle_usage",
    ]  # fmt: skip
    full = _config(
        code_change_path="a.py",
        dependency_change_path="requirements.txt",
        budgets="b.toml",
        expect={"files": ["/a"], "absent_globs": ["*.key"]},
        unhealthy={"env": {"X": "1"}},
        volume={"host": "h", "target": "/t", "check_path": "/", "expect_json": {"a": 1}},
        load={"locustfile": "l.py", "curve": True},
        ab={"baseline": "app:main"},
    )
    assert [check.name for check in catalogue.select(full, None)] == [check.name for check in catalogue.BUILTIN]


def test_a_check_needing_a_cycle_is_refused() -> None:
    first = catalogue.Check("a", lambda: None, "build", needs=("b",))
    second = catalogue.Check("b", lambda: None, "build", needs=("a",))
    with pytest.raises(ValueError, match="need each other"):
        catalogue.ordered([first, second])


@pytest.mark.parametrize(
    "source",
    ["default tolerances", "benchmarks/tolerances-ci.toml", "benchmarks/budgets.toml"],
)
def test_every_shipped_tolerance_and_budget_names_a_figure_a_check_records(source: str) -> None:
    if source == "default tolerances":
        names = [tolerance.pattern for tolerance in DEFAULT_TOLERANCES]
    elif source.endswith("budgets.toml"):
        names = [budget.name for budget in load_budgets(ROOT / source)]
    else:
        names = [tolerance.pattern for tolerance in load_tolerances(ROOT / source)]
    unrecorded = [name for name in names if catalogue.recording(name) is None]
    assert not unrecorded, f"{source} names figures no built-in check records: {unrecorded}"


def test_the_baseline_holds_only_figures_checks_record_or_run_facts() -> None:
    baseline = json.loads((ROOT / "benchmarks" / "baseline.json").read_text())
    groups = set(baseline) - {"budgets", "environment", "units"}
    recorded_groups = {name.split(".")[0] for check in catalogue.BUILTIN for name in check.records}
    assert groups <= recorded_groups


def test_the_package_exports_its_public_names_lazily() -> None:
    assert set(container_harness.__all__) == {"__version__", *container_harness._EXPORTS}
    assert container_harness.ImageSpec.__module__ == "container_harness.specs"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        container_harness.nothing  # noqa: B018


def test_the_readme_lists_every_check_in_order() -> None:
    readme = (ROOT / "container_harness" / "README.md").read_text()
    table = readme.split("## The built-in checks", 1)[1].split("\n\n", 2)[1]
    listed = [row.split("|")[1].strip().strip("`") for row in table.splitlines()[2:]]
    assert listed == [check.name for check in catalogue.BUILTIN]


def test_the_figure_catalogue_documents_exactly_what_the_checks_record() -> None:
    readme = (ROOT / "container_harness" / "README.md").read_text()
    section = readme.split("## Figure catalogue", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([a-z0-9_]+\.[a-z0-9_.*]+)`", row.split("|")[1])}
    recorded = {name for check in catalogue.BUILTIN for name in check.records}
    assert sorted(recorded - documented) == [], "figures the checks record but the catalogue leaves out"
    assert sorted(documented - recorded) == [], "figures the catalogue documents but no check records"
