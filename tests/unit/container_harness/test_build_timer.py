"""The changed context copy of code- and dependency-change builds, without an engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from container_harness.build.timer import changed_copy
from container_harness.errors import ConfigError
from container_harness.exit_codes import EXIT_BAD_INPUT
from container_harness.specs import ImageSpec


def _spec(context: Path) -> ImageSpec:
    (context / "Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    (context / "app.py").write_text("print('hi')\n")
    return ImageSpec(dockerfile=context / "Dockerfile", context=context, tag="t:1")


def test_the_changed_file_gains_a_line_in_the_copy_only(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    copy = changed_copy(_spec(tmp_path / "ctx"), "code_change", "app.py", tmp_path / "copy")
    assert (copy / "app.py").read_text().startswith("print('hi')\n\n# harness code change ")
    assert (tmp_path / "ctx" / "app.py").read_text() == "print('hi')\n"


def test_a_change_path_outside_the_context_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    with pytest.raises(ConfigError, match=r"code_change_path 'src/app.py' is not a file of the build context") as e:
        changed_copy(_spec(tmp_path / "ctx"), "code_change", "src/app.py", tmp_path / "copy")
    assert e.value.command_exit_code == EXIT_BAD_INPUT
    assert e.value.hint.startswith("point code_change_path at a file")
