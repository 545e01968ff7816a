"""The library README against the code: its quick start is a short, valid configuration that runs on an
everyday image, its settings table holds every key with its default, its gate lists every default tolerance."""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from container_harness.config import HarnessConfig, load_config
from container_harness.gate.baseline import DEFAULT_TOLERANCES
from container_harness.pytest_plugin import catalogue

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "container_harness" / "README.md").read_text()
# Defaults the harness computes when it reads the configuration, written in words in the table.
COMPUTED = {"root"}
UNITS = {"_s": "s", "_ms": "ms", "_bytes": "bytes"}


def _section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _settings() -> Iterator[tuple[str, Any]]:
    """Every leaf key of the configuration's models, dotted, with its default (PydanticUndefined: required)."""

    def walk(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, Any]]:
        for name, field in model.model_fields.items():
            nested = [arg for arg in typing.get_args(field.annotation) or (field.annotation,) if _is_model(arg)]
            if nested:
                yield from walk(nested[0], f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}", field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]

    return walk(HarnessConfig, "")


def _is_model(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _cell(default: Any) -> str:
    """A default as the table writes it."""
    if default is PydanticUndefined:
        return "required"
    if default is None:
        return "none"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float) and default.is_integer():
        default = int(default)
    return f"`{json.dumps(default if not isinstance(default, Path) else str(default), ensure_ascii=False)}`"


def _table_rows(section: str) -> dict[str, list[str]]:
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `")]
    return {cells[0].strip().strip("`"): [cell.strip() for cell in cells[1:]] for cells in rows}


def test_every_setting_is_in_the_table_with_its_default_and_unit() -> None:
    rows = _table_rows(_section("Settings"))
    settings = dict(_settings())
    assert sorted(set(settings) - set(rows)) == [], "settings the README's table leaves out"
    assert sorted(set(rows) - set(settings)) == [], "rows of the README's table that are no setting"
    for key, default in settings.items():
        default_cell, unit = rows[key][0], rows[key][1]
        if key not in COMPUTED:
            assert default_cell == _cell(default), f"{key}: the table says {default_cell}, the code {_cell(default)}"
        suffix = next((unit for end, unit in UNITS.items() if key.endswith(end)), None)
        assert suffix is None or unit == suffix, f"{key}: unit {unit!r}, expected {suffix!r}"


def test_the_quick_start_is_ten_lines_of_valid_configuration_that_needs_no_policy_or_budget(tmp_path: Path) -> None:
    quick = _section("Quick start")
    blocks = re.findall(r"```(toml|sh)\n(.*?)```", quick, flags=re.S)
    assert [language for language, _ in blocks] == ["toml", "sh"]
    assert sum(len(body.splitlines()) for _, body in blocks) <= 10
    (tmp_path / "pyproject.toml").write_text(blocks[0][1])
    config = load_config(tmp_path)
    assert config.budgets is None
    assert not config.policy.non_root
    assert not config.policy.healthcheck
    checks = [check.name for check in catalogue.select(config, None)]
    assert "load" in checks
    assert "budgets" not in checks


def test_the_gate_lists_every_default_tolerance() -> None:
    gate = _section("The baseline gate")
    listed = {name for line in gate.splitlines() if line.startswith("| `") for name in re.findall(r"`([^`]+)`", line)}
    assert sorted({tolerance.pattern for tolerance in DEFAULT_TOLERANCES} - listed) == []


def test_the_workflow_to_copy_runs_the_jobs_the_readme_describes() -> None:
    section = _section("A workflow to copy")
    workflow = yaml.safe_load((ROOT / "docs" / "container-harness.yml").read_text())
    assert "(../docs/container-harness.yml)" in section
    assert list(_table_rows(section)) == list(workflow["jobs"])
