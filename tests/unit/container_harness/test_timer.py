"""BuildTimings' report from builds parsed out of rawjson streams captured from the real engine; the changed
context copy of a code- or dependency-change build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from container_harness.build.buildkit import BuildxInfo
from container_harness.build.buildkit_log import parse_rawjson
from container_harness.build.timer import BuildKind, BuildRun, BuildTimings, changed_copy, unique_blank_lines
from container_harness.errors import ConfigError
from container_harness.exit_codes import EXIT_BAD_INPUT
from container_harness.specs import ImageSpec

PAYLOADS = Path(__file__).parent / "payloads"


def _run(kind: BuildKind, payload: str, seconds: float) -> BuildRun:
    log = parse_rawjson((PAYLOADS / f"buildkit_{payload}.txt").read_text())
    return BuildRun(kind=kind, seconds=seconds, log=log, image_id=log.image_id or "")


def _timings() -> BuildTimings:
    return BuildTimings(
        full=[_run("full", "uncached", 9.0), _run("full", "uncached", 11.0)],
        cached=[_run("cached", "cached", 1.0)],
        code_change=[_run("code_change", "code_change", 3.0)],
        build_args={"BASE": "local/python:3.11-slim"},
        base_image="local/python:3.11-slim",
        builder="buildkit",
        versions=BuildxInfo(buildx_version="0.13.1", buildkit_version="v0.12.5"),
    )


def test_report_gives_medians_per_kind_and_none_for_a_kind_never_built() -> None:
    report = _timings().to_report()
    assert list(report) == [
        "builder", "buildx_version", "buildkit_version", "full_s", "cached_s", "code_change_s",
        "dependency_change_s", "exporter", "context_transfer", "steps", "runs", "build_args", "base_image",
    ]  # fmt: skip
    assert report["builder"] == "buildkit"
    assert (report["buildx_version"], report["buildkit_version"]) == ("0.13.1", "v0.12.5")
    assert (report["full_s"], report["cached_s"], report["code_change_s"]) == (10.0, 1.0, 3.0)
    assert report["dependency_change_s"] is None
    assert report["runs"] == {"full": [9.0, 11.0], "cached": [1.0], "code_change": [3.0], "dependency_change": []}


def test_report_rows_are_the_steps_with_each_kinds_median_seconds_and_cache_hits() -> None:
    timings = _timings()
    rows = timings.to_report()["steps"]
    assert [row["number"] for row in rows] == [step.number for step in timings.full[0].log.steps]
    copy = next(row for row in rows if row["instruction"].startswith("COPY") and not row["code_change_cached"])
    assert (copy["number"], copy["full_s"]) == (5, 0.0585)  # the captured uncached build's COPY of the code
    assert copy["full_cached"] is False
    assert copy["cached_cached"] is True
    assert copy["dependency_change_s"] is None
    assert copy["dependency_change_cached"] is None


def test_report_phases_are_buildkits_own_per_kind_and_absent_for_the_classic_builder() -> None:
    timings = _timings()
    exporter = timings.to_report()["exporter"]
    assert set(exporter) == {"full_s", "cached_s", "code_change_s"}
    assert exporter["cached_s"] == timings.cached[0].log.exporter_s
    classic = BuildTimings(full=[], cached=[], code_change=[], build_args={})
    report = classic.to_report()
    assert report["exporter"] is None
    assert report["steps"] == []
    assert report["buildx_version"] is None


def _context(tmp_path: Path) -> ImageSpec:
    """A context with a Dockerfile, app.py, and notes.txt that .dockerignore keeps out."""
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    (context / "app.py").write_text("print('hi')\n")
    (context / "notes.txt").write_text("not sent\n")
    (context / ".dockerignore").write_text("notes.txt\n")
    return ImageSpec(dockerfile=context / "Dockerfile", context=context, tag="probe")


@pytest.mark.parametrize("path", ["absent.py", "notes.txt"])
def test_a_change_path_the_build_never_sees_is_a_configuration_error(tmp_path: Path, path: str) -> None:
    spec = _context(tmp_path)
    with pytest.raises(ConfigError, match=rf"code_change_path '{path}' is not a file of the build context") as raised:
        changed_copy(spec, "code_change", path, tmp_path / "copy")
    assert "point code_change_path" in raised.value.hint


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
