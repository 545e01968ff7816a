"""A parsed build, the same shape for both builders: steps with their seconds and cache hits (pure data)."""

from __future__ import annotations

from dataclasses import dataclass, field

TAIL_LINES = 25  # how many of a failed build's last log lines an error shows
# Steps that make no layer: the classic builder never shows them cached, BuildKit marks FROM cached even in
# a --no-cache build (the base came from the engine's store). Their cache flag says nothing.
_NO_LAYER_STEPS = ("FROM", "ARG")


@dataclass(frozen=True)
class BuildStep:
    """One Dockerfile step: its number, instruction text, whether the cache served it, and its seconds.

    stage is BuildKit's name for the step's stage (`builder`, `stage-0`); the classic log does not give it.
    """

    number: int
    instruction: str
    cached: bool
    seconds: float
    stage: str | None = None

    @property
    def keyword(self) -> str:
        """The instruction's keyword (FROM, RUN, COPY ...), for telling layer-making steps from the rest."""
        return self.instruction.split(" ", 1)[0].upper()


@dataclass
class BuildLog:
    """A parsed build: its steps, the image it made (or the error and failing step) and every log line.

    created_ids are the images this build made for its uncached steps (earlier stages' results among them),
    so the session can remove what a multi-stage build leaves untagged; cached and FROM steps reuse images.
    exporter_s and context_transfer_s are BuildKit's own phases (writing the image, sending the context);
    the classic log does not separate them.
    """

    steps: list[BuildStep]
    image_id: str | None
    error: str | None
    failing_step: str | None
    lines: list[str] = field(default_factory=list)
    created_ids: list[str] = field(default_factory=list)
    exporter_s: float | None = None
    context_transfer_s: float | None = None

    @property
    def cache_hits(self) -> int:
        """How many steps the cache served."""
        return sum(step.cached for step in self.steps)

    def layer_steps(self, *, cached: bool) -> list[BuildStep]:
        """The layer-making steps the cache served (cached=True) or that ran (False); FROM and ARG left out."""
        return [step for step in self.steps if step.cached == cached and step.keyword not in _NO_LAYER_STEPS]
