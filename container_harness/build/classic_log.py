"""Turn a classic-builder event stream into steps with their time and cache hits (pure, no Docker)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from container_harness.build.log import BuildLog, BuildStep

_STEP = re.compile(r"^Step (?P<number>\d+)/\d+ : (?P<instruction>.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_BUILT = re.compile(r"^Successfully built (?P<id>[0-9a-f]+)$")
_USING_CACHE = " ---> Using cache"
_LAYER = re.compile(r"^ ---> (?P<id>[0-9a-f]{12,64})$")


def parse_build_events(events: Iterable[tuple[float, dict[str, Any]]]) -> BuildLog:
    """Parse (seconds since the request, decoded chunk) pairs; a step lasts until the next step (or the end).

    Stream chunks do not align with lines (a step header and its newline come separately), so text is
    joined and split on newlines before matching.
    """
    starts: list[tuple[int, str, float, str]] = []
    cached: set[int] = set()
    lines: list[str] = []
    created: list[str] = []
    image_id: str | None = None
    error: str | None = None
    pending, pending_time, end = "", 0.0, 0.0

    def take_line(line: str, started: float) -> None:
        nonlocal image_id
        if not line.strip():
            return
        lines.append(line)
        step = _STEP.match(line)
        if step:
            starts.append((int(step["number"]), step["instruction"], started, line))
        elif line.startswith(_USING_CACHE) and starts:
            cached.add(starts[-1][0])
        elif (layer := _LAYER.match(line)) and starts and starts[-1][0] not in cached:
            if not starts[-1][1].upper().startswith("FROM "):
                created.append(layer["id"])
        elif (built := _BUILT.match(line)) and image_id is None:
            image_id = built["id"]

    for seconds, chunk in events:
        end = max(end, seconds)
        text = chunk.get("stream")
        if isinstance(text, str):
            pieces = _ANSI.sub("", text).split("\n")
            for index, piece in enumerate(pieces):
                if not pending:
                    pending_time = seconds
                pending += piece
                if index < len(pieces) - 1:
                    take_line(pending.rstrip("\r"), pending_time)
                    pending = ""
        aux = chunk.get("aux")
        if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
            image_id = aux["ID"]
        if "error" in chunk:
            detail = chunk.get("errorDetail") or {}
            error = str(chunk.get("error") or detail.get("message") or "unknown build error")
            lines.append(error)
    take_line(pending, pending_time)

    steps = [
        BuildStep(
            number=number,
            instruction=instruction,
            cached=number in cached,
            seconds=round((starts[index + 1][2] if index + 1 < len(starts) else end) - started, 4),
        )
        for index, (number, instruction, started, _) in enumerate(starts)
    ]
    failing = starts[-1][3] if error is not None and starts else None
    return BuildLog(
        steps=steps,
        image_id=None if error is not None else image_id,
        error=error,
        failing_step=failing,
        lines=lines,
        created_ids=created,
    )
