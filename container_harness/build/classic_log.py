"""Turn a classic-builder event stream into steps with their time and cache hits (pure, no Docker)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
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
    reading = _Reading()
    for seconds, chunk in events:
        reading.take_chunk(seconds, chunk)
    return reading.finish()


@dataclass
class _Reading:
    """What the stream has said so far: step starts (number, instruction, seconds, header line), cache hits, every
    line, the layers made, the image id or error; `pending` is a line whose newline has not come yet."""

    starts: list[tuple[int, str, float, str]] = field(default_factory=list)
    cached: set[int] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    image_id: str | None = None
    error: str | None = None
    pending: str = ""
    pending_time: float = 0.0
    end: float = 0.0

    def take_chunk(self, seconds: float, chunk: dict[str, Any]) -> None:
        """One decoded chunk: its text, the image id in its aux part, or the build's error."""
        self.end = max(self.end, seconds)
        text = chunk.get("stream")
        if isinstance(text, str):
            self._take_text(_ANSI.sub("", text), seconds)
        aux = chunk.get("aux")
        if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
            self.image_id = aux["ID"]
        if "error" in chunk:
            detail = chunk.get("errorDetail") or {}
            self.error = str(chunk.get("error") or detail.get("message") or "unknown build error")
            self.lines.append(self.error)

    def _take_text(self, text: str, seconds: float) -> None:
        """Join text to the pending line; each completed line is taken at the time its first piece came."""
        pieces = text.split("\n")
        for index, piece in enumerate(pieces):
            if not self.pending:
                self.pending_time = seconds
            self.pending += piece
            if index < len(pieces) - 1:
                self._take_line(self.pending.rstrip("\r"), self.pending_time)
                self.pending = ""

    def _take_line(self, line: str, started: float) -> None:
        """One whole line: a step header, a cache hit, a layer made by the current step, or the built image."""
        if not line.strip():
            return
        self.lines.append(line)
        step = _STEP.match(line)
        if step:
            self.starts.append((int(step["number"]), step["instruction"], started, line))
        elif line.startswith(_USING_CACHE) and self.starts:
            self.cached.add(self.starts[-1][0])
        elif (layer := _LAYER.match(line)) and self.starts and self.starts[-1][0] not in self.cached:
            if not self.starts[-1][1].upper().startswith("FROM "):
                self.created.append(layer["id"])
        elif (built := _BUILT.match(line)) and self.image_id is None:
            self.image_id = built["id"]

    def finish(self) -> BuildLog:
        """Take the last unterminated line; the steps timed start to start (the last one to the stream's end)."""
        self._take_line(self.pending, self.pending_time)
        starts = self.starts
        steps = [
            BuildStep(
                number=number,
                instruction=instruction,
                cached=number in self.cached,
                seconds=round((starts[index + 1][2] if index + 1 < len(starts) else self.end) - started, 4),
            )
            for index, (number, instruction, started, _) in enumerate(starts)
        ]
        return BuildLog(
            steps=steps,
            image_id=None if self.error is not None else self.image_id,
            error=self.error,
            failing_step=starts[-1][3] if self.error is not None and starts else None,
            lines=self.lines,
            created_ids=self.created,
        )
