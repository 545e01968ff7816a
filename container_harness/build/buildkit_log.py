"""Turn `docker buildx build --progress=rawjson` output into steps with their time and cache hits (pure).

The stream is BuildKit's solve status as concatenated JSON objects (`vertexes`, `statuses`, `logs`), each
vertex re-sent whenever it changes; buildx ends a failed build with plain `ERROR: ...` lines. Steps are the
vertexes named `[stage i/n] INSTRUCTION`; `[internal] load build context` is the context transfer and
`exporting to ...` the exporter.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from container_harness.build.log import BuildLog, BuildStep
from container_harness.timestamps import rfc3339_seconds

_STEP = re.compile(r"^\[(?:(?P<stage>\S+) )?(?P<index>\d+)/\d+\] (?P<instruction>.*)$", re.DOTALL)
_IMAGE_ID = re.compile(r"^writing image (?P<id>sha256:[0-9a-f]{64})")
_CONTEXT = "[internal] load build context"
_EXPORTER = "exporting to "


@dataclass
class _Vertex:
    """Everything the stream said about one vertex (later messages update earlier ones)."""

    name: str
    started: float | None = None
    completed: float | None = None
    cached: bool = False
    error: str | None = None
    log: list[str] = field(default_factory=list)

    def seconds(self, end: float) -> float:
        """Wall seconds from start to completion (to the stream's end when it never completed)."""
        if self.started is None:
            return 0.0
        return round((self.completed if self.completed is not None else end) - self.started, 4)

    def update(self, raw: dict[str, Any]) -> None:
        """Take what a re-sent vertex says; a field it leaves out keeps its earlier value, a cache hit stays."""
        self.started = rfc3339_seconds(raw["started"]) if raw.get("started") else self.started
        self.completed = rfc3339_seconds(raw["completed"]) if raw.get("completed") else self.completed
        self.cached = self.cached or bool(raw.get("cached"))
        self.error = str(raw["error"]) if raw.get("error") else self.error


def parse_rawjson(text: str, stage_order: Sequence[str] = ()) -> BuildLog:
    """Parse the whole rawjson output of one build; steps are numbered by stage (stage_order, else as first
    seen) and their index within it, so a step keeps its number from one build to the next.
    """
    objects, plain = split_stream(text)
    vertexes, end = _vertexes(objects)
    image_id = _image_id(objects)
    failing = next((vertex for vertex in vertexes.values() if vertex.error), None)
    error = failing.error if failing else next((line for line in plain if line.startswith("ERROR")), None)
    return BuildLog(
        steps=_steps(vertexes.values(), stage_order, end),
        image_id=None if error else image_id,
        error=error,
        failing_step=failing.name if failing else None,
        lines=[line for vertex in vertexes.values() for line in _described(vertex)] + plain,
        exporter_s=_phase(vertexes.values(), end, lambda name: name.startswith(_EXPORTER)),
        context_transfer_s=_phase(vertexes.values(), end, lambda name: name == _CONTEXT),
    )


def _vertexes(objects: Sequence[dict[str, Any]]) -> tuple[dict[str, _Vertex], float]:
    """Every vertex by digest with its times, cache hit, error and log lines; and the stream's last time seen."""
    vertexes: dict[str, _Vertex] = {}
    end = 0.0
    for message in objects:
        for raw in message.get("vertexes") or []:
            vertex = vertexes.setdefault(raw["digest"], _Vertex(name=str(raw.get("name", ""))))
            vertex.update(raw)
            end = max(end, vertex.started or 0.0, vertex.completed or 0.0)
        for entry in message.get("logs") or []:
            vertex = vertexes.setdefault(entry["vertex"], _Vertex(name=""))
            vertex.log += base64.b64decode(entry.get("data", "")).decode(errors="replace").splitlines()
    return vertexes, end


def _image_id(objects: Sequence[dict[str, Any]]) -> str | None:
    """The id of the image written, from the exporter's last `writing image sha256:...` status (None without)."""
    image_id: str | None = None
    for message in objects:
        for status in message.get("statuses") or []:
            found = _IMAGE_ID.match(str(status.get("id", "")))
            image_id = found["id"] if found else image_id
    return image_id


def split_stream(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The JSON objects of the output, in order, and its plain-text lines (buildx's ERROR lines)."""
    decoder = json.JSONDecoder()
    objects: list[dict[str, Any]] = []
    plain: list[str] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
        elif text[position] == "{":
            value, position = decoder.raw_decode(text, position)
            objects.append(value)
        else:
            line_end = text.find("\n", position)
            line_end = len(text) if line_end < 0 else line_end
            plain.append(text[position:line_end].rstrip())
            position = line_end
    return objects, plain


def _steps(vertexes: Iterable[_Vertex], stage_order: Sequence[str], end: float) -> list[BuildStep]:
    """Dockerfile steps, ordered by stage then index and numbered 1.. in that order (BuildKit leaves the
    stage out of a single-stage build's names: `[2/3] RUN ...`)."""
    found = [(match, vertex) for vertex in vertexes if (match := _STEP.match(vertex.name))]
    stages: list[str | None] = list(stage_order)
    for match, _ in found:
        if match["stage"] not in stages:
            stages.append(match["stage"])
    found.sort(key=lambda pair: (stages.index(pair[0]["stage"]), int(pair[0]["index"])))
    return [
        BuildStep(
            number=number,
            instruction=match["instruction"],
            cached=vertex.cached,
            seconds=vertex.seconds(end),
            stage=match["stage"],
        )
        for number, (match, vertex) in enumerate(found, start=1)
    ]


def _phase(vertexes: Iterable[_Vertex], end: float, wanted: Callable[[str], bool]) -> float | None:
    """Summed seconds of the vertexes whose name `wanted` accepts (None when there is none)."""
    chosen = [vertex.seconds(end) for vertex in vertexes if wanted(vertex.name)]
    return round(sum(chosen), 4) if chosen else None


def _described(vertex: _Vertex) -> list[str]:
    """A vertex's log lines under its name, its error last, as `docker build` prints them."""
    lines = [f"#{vertex.name}", *vertex.log] if vertex.log else []
    return lines + ([f"#{vertex.name}: ERROR: {vertex.error}"] if vertex.error else [])
