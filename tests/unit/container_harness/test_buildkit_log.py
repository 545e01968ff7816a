"""rawjson parsing on streams captured from `docker buildx build` against the real engine (BuildKit v0.8)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from container_harness.build.buildkit_log import parse_rawjson, split_stream
from container_harness.build.dockerfile import stage_names
from container_harness.build.log import BuildLog

PAYLOADS = Path(__file__).parent / "payloads"
TINY = Path(__file__).resolve().parents[2] / "fixtures" / "tiny_service" / "Dockerfile.buildkit"


def _read(name: str) -> str:
    return (PAYLOADS / f"buildkit_{name}.txt").read_text()


def _parse(name: str, stage_order: tuple[str, ...] = ()) -> BuildLog:
    return parse_rawjson(_read(name), stage_order)


def _written_image(text: str) -> str:
    """Independent reading of the stream: the id in the exporter's `writing image` status."""
    found = re.search(r'"id": "writing image (sha256:[0-9a-f]{64})"', text)
    assert found is not None
    return found[1]


def test_uncached_build_runs_every_layer_step_and_names_the_image() -> None:
    log = _parse("uncached")
    assert [(step.number, step.keyword) for step in log.steps] == [
        (1, "FROM"), (2, "RUN"), (3, "RUN"), (4, "COPY"), (5, "COPY"),
    ]  # fmt: skip
    assert not any(step.cached for step in log.steps if step.keyword != "FROM")
    assert log.steps[1].instruction.startswith("RUN --mount=type=cache,target=/var/cache/tiny")
    assert {step.stage for step in log.steps} == {"stage-0"}
    assert log.image_id == _written_image(_read("uncached"))
    assert (log.error, log.failing_step) == (None, None)
    assert log.created_ids == []


def test_step_seconds_are_the_vertex_s_own_start_to_completion() -> None:
    objects, _ = split_stream(_read("uncached"))
    last = {
        vertex["name"]: vertex
        for message in objects
        for vertex in message.get("vertexes") or []
        if vertex.get("completed")
    }
    step = _parse("uncached").steps[2]
    raw = next(vertex for name, vertex in last.items() if name.endswith(step.instruction))

    def parsed(stamp: str) -> float:
        return datetime.fromisoformat(stamp[:26] + "+00:00").timestamp()

    assert step.seconds == pytest.approx(parsed(raw["completed"]) - parsed(raw["started"]), abs=1e-4)
    assert step.seconds > 0.05


def test_exporter_and_context_transfer_are_timed() -> None:
    full, cached = _parse("uncached"), _parse("cached")
    assert full.exporter_s is not None
    assert cached.exporter_s is not None
    assert full.exporter_s > cached.exporter_s > 0
    assert full.context_transfer_s is not None
    assert full.context_transfer_s > 0


def test_cached_build_hits_every_layer_step_and_gives_the_same_image() -> None:
    log = _parse("cached")
    assert all(step.cached for step in log.steps if step.keyword != "FROM")
    assert log.image_id == _parse("uncached").image_id


def test_after_a_code_change_only_the_changed_copy_runs() -> None:
    log = _parse("code_change")
    rebuilt = [step.instruction for step in log.steps if not step.cached and step.keyword != "FROM"]
    assert rebuilt == ["COPY --chown=10001:10001 --chmod=0644 app/www/ /srv/www/"]
    assert log.image_id not in (None, _parse("cached").image_id)


def test_failing_build_names_the_step_and_keeps_its_output() -> None:
    log = _parse("failing")
    assert log.image_id is None
    assert log.error is not None
    assert "exit code: 3" in log.error
    assert log.failing_step == '[2/2] RUN echo preparing && echo "about to fail" >&2 && exit 3'
    assert [step.stage for step in log.steps] == [None, None]
    assert "about to fail" in log.lines
    assert log.lines[-1].startswith("ERROR: failed to solve:")


def test_steps_are_numbered_in_the_dockerfile_s_stage_order() -> None:
    in_order = _parse("two_stage", ("prepare", "stage-1"))
    assert [(step.number, step.stage, step.keyword) for step in in_order.steps] == [
        (1, "prepare", "FROM"), (2, "prepare", "RUN"), (3, "stage-1", "RUN"), (4, "stage-1", "COPY"),
    ]  # fmt: skip
    reversed_order = _parse("two_stage", ("stage-1", "prepare"))
    assert [step.stage for step in reversed_order.steps] == ["stage-1", "stage-1", "prepare", "prepare"]


def test_stage_names_are_buildkit_s() -> None:
    dockerfile = "ARG BASE\nFROM ${BASE} AS Prepare\nRUN x\nFROM ${BASE}\nCOPY --from=prepare /a /a\n"
    assert stage_names(dockerfile, {}) == ["prepare", "stage-1"]
    assert stage_names(TINY.read_text(), {}) == ["stage-0"]


def test_plain_lines_between_objects_are_kept_apart() -> None:
    objects, plain = split_stream('{"vertexes": []}\nERROR: one\n{"statuses": []}\nERROR: two')
    assert objects == [{"vertexes": []}, {"statuses": []}]
    assert plain == ["ERROR: one", "ERROR: two"]
