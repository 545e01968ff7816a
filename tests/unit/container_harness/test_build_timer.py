"""The changed context copy of code- and dependency-change builds, without an engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from container_harness.build.timer import changed_copy, unique_blank_lines
from container_harness.errors import ConfigError
from container_harness.exit_codes import EXIT_BAD_INPUT
from container_harness.specs import ImageSpec


def _spec(context: Path, name: str = "app.py", content: bytes = b"print('hi')\n") -> ImageSpec:
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM scratch\nCOPY {name} /\n")
    (context / name).write_bytes(content)
    return ImageSpec(dockerfile=context / "Dockerfile", context=context, tag="t:1")


def test_the_changed_file_gains_blank_lines_in_the_copy_only(tmp_path: Path) -> None:
    copy = changed_copy(_spec(tmp_path / "ctx"), "code_change", "app.py", tmp_path / "copy")
    changed = (copy / "app.py").read_text()
    assert changed.startswith("print('hi')\n")
    assert changed.count("\n") == 1 + 16
    assert not changed[len("print('hi')\n") :].strip()
    assert (tmp_path / "ctx" / "app.py").read_text() == "print('hi')\n"
    compile(changed, "app.py", "exec")


def test_a_json_file_stays_the_same_json_with_other_bytes(tmp_path: Path) -> None:
    original = b'{"name": "app", "dependencies": {"left-pad": "1.3.0"}}'  # no final newline, as npm may write it
    spec = _spec(tmp_path / "ctx", "package.json", original)
    first = (changed_copy(spec, "dependency_change", "package.json", tmp_path / "one") / "package.json").read_bytes()
    second = (changed_copy(spec, "dependency_change", "package.json", tmp_path / "two") / "package.json").read_bytes()
    assert json.loads(first) == json.loads(second) == json.loads(original)
    assert len({original, first, second}) == 3  # each build gets content the cache has not seen
    assert first.startswith(original + b"\n")


def test_the_blank_lines_are_unique_whitespace() -> None:
    lines = [unique_blank_lines() for _ in range(50)]
    assert len(set(lines)) == 50
    assert all(line.count(b"\n") == 16 for line in lines)
    assert all(set(line) <= {ord(" "), ord("\n")} for line in lines)


def test_a_binary_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    model = bytes(range(256)) * 4  # holds NUL bytes, as a protobuf model or a gzip archive does
    spec = _spec(tmp_path / "ctx", "model.onnx", model)
    with pytest.raises(ConfigError, match=r"code_change_path 'model.onnx' is a binary file") as error:
        changed_copy(spec, "code_change", "model.onnx", tmp_path / "copy")
    assert error.value.command_exit_code == EXIT_BAD_INPUT
    assert error.value.hint.startswith("point code_change_path at a text file")
    assert (tmp_path / "ctx" / "model.onnx").read_bytes() == model
    assert (tmp_path / "copy" / "model.onnx").read_bytes() == model


def test_a_change_path_outside_the_context_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"code_change_path 'src/app.py' is not a file of the build context") as e:
        changed_copy(_spec(tmp_path / "ctx"), "code_change", "src/app.py", tmp_path / "copy")
    assert e.value.command_exit_code == EXIT_BAD_INPUT
    assert e.value.hint.startswith("point code_change_path at a file")
