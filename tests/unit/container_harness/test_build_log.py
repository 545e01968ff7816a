"""Build-stream parsing on streams captured from the real classic builder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from container_harness.build.classic_log import parse_build_events
from container_harness.build.log import BuildLog

PAYLOADS = Path(__file__).parent / "payloads"


def _parse(name: str) -> tuple[BuildLog, list[tuple[float, dict[str, Any]]]]:
    events = [(float(seconds), chunk) for seconds, chunk in json.loads((PAYLOADS / name).read_text())]
    return parse_build_events(events), events


def _step_times(events: list[tuple[float, dict[str, Any]]]) -> dict[int, float]:
    """Independent reading of the captured stream: the time of each `Step n/m` chunk."""
    return {
        int(chunk["stream"].split()[1].split("/")[0]): seconds
        for seconds, chunk in events
        if str(chunk.get("stream", "")).startswith("Step ")
    }


def test_uncached_build_has_every_step_uncached_and_the_image_id() -> None:
    log, _ = _parse("build_uncached.json")
    assert [step.number for step in log.steps] == list(range(1, 12))
    assert not any(step.cached for step in log.steps)
    assert log.image_id == "sha256:80b522c1960cf438a64a28ca102fe5082f10a778f10ca29ad7531493f739ce43"
    assert log.error is None
    assert log.failing_step is None
    assert log.steps[2].instruction.startswith("RUN mkdir -p /srv/www")
    assert log.steps[2].keyword == "RUN"


def test_step_seconds_run_from_one_step_event_to_the_next_or_the_end() -> None:
    log, events = _parse("build_uncached.json")
    starts = _step_times(events)
    end = events[-1][0]
    for step in log.steps:
        until = starts.get(step.number + 1, end)
        assert step.seconds == pytest.approx(until - starts[step.number], abs=1e-4)
    assert sum(step.seconds for step in log.steps) == pytest.approx(end - starts[1], abs=1e-3)


def test_cached_build_marks_every_layer_step_as_a_cache_hit() -> None:
    log, _ = _parse("build_cached.json")
    assert {step.number for step in log.steps if step.cached} == set(range(3, 12))
    assert [step.keyword for step in log.steps if not step.cached] == ["ARG", "FROM"]
    assert log.cache_hits == 9
    assert log.image_id == "sha256:80b522c1960cf438a64a28ca102fe5082f10a778f10ca29ad7531493f739ce43"


def test_layer_steps_leave_out_from_and_arg_whose_cache_flag_says_nothing() -> None:
    uncached, _ = _parse("build_uncached.json")
    cached, _ = _parse("build_cached.json")
    assert [step.number for step in uncached.layer_steps(cached=False)] == list(range(3, 12))
    assert uncached.layer_steps(cached=True) == []
    assert [step.number for step in cached.layer_steps(cached=True)] == list(range(3, 12))
    assert cached.layer_steps(cached=False) == []  # ARG and FROM ran uncached, and make no layer


def test_failing_build_names_the_failing_step_and_keeps_its_output() -> None:
    log, _ = _parse("build_failing.json")
    assert log.image_id is None
    assert log.error is not None
    assert "returned a non-zero code: 3" in log.error
    assert log.failing_step == 'Step 3/3 : RUN echo preparing && echo "about to fail" >&2 && exit 3'
    assert "about to fail" in log.lines  # colour codes of stderr lines are stripped
    assert log.lines[-1] == log.error


def test_lines_split_across_chunks_are_joined_before_matching() -> None:
    events = [
        (0.0, {"stream": "Step 1/2 : FR"}),
        (0.5, {"stream": "OM base\n ---> abc\nStep 2/2"}),
        (1.0, {"stream": " : RUN true\n ---> Using cache\n"}),
        (3.0, {"stream": "Successfully built 0123abcd\n"}),
    ]
    log = parse_build_events(events)
    assert [(s.number, s.instruction, s.cached, s.seconds) for s in log.steps] == [
        (1, "FROM base", False, 0.5),
        (2, "RUN true", True, 2.5),
    ]
    assert log.image_id == "0123abcd"


def test_created_ids_are_the_images_of_uncached_steps_only() -> None:
    uncached, _ = _parse("build_uncached.json")
    cached, _ = _parse("build_cached.json")
    failing, _ = _parse("build_failing.json")

    # Steps 3-11 made a layer image each; the FROM step's id is the base image, never this build's.
    assert uncached.created_ids == [
        "d2d33eb43339", "9808467844b5", "878fc2635fb9", "14646da30a31", "bb91f734beed",
        "dafe1b00bc7b", "67ec25097f32", "ee0c4dd0b026", "80b522c1960c",
    ]  # fmt: skip
    assert str(uncached.image_id).startswith(f"sha256:{uncached.created_ids[-1]}")
    assert cached.created_ids == []
    assert failing.created_ids == []
