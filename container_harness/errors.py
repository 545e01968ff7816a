"""Errors a harness user can act on: each message names what was expected, what was seen and what to try."""

from __future__ import annotations


class HarnessError(Exception):
    """Base of every harness error; str() is the complete, actionable message."""


class EngineUnavailable(HarnessError):
    """The Docker engine could not be reached."""


class BaseImageMissing(HarnessError):
    """A base image named by a FROM line is not on the engine and the harness never pulls."""


class BuildFailed(HarnessError):
    """A build step failed; carries the failing step and the last lines of the build log."""

    def __init__(self, message: str, step: str | None, log_tail: list[str]) -> None:
        super().__init__(message)
        self.step = step
        self.log_tail = log_tail


class ContainerExited(HarnessError):
    """The container stopped while the harness was waiting for it; carries its exit code and last logs."""

    def __init__(self, message: str, exit_code: int | None, log_tail: list[str]) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.log_tail = log_tail


class ReadinessTimeout(HarnessError):
    """The awaited HTTP answer or health status did not come in time."""


def format_tail(lines: list[str], heading: str = "last log lines") -> str:
    """Indented block of log lines for an error message (or a note that there were none)."""
    if not lines:
        return f"{heading}: (none)"
    return f"{heading}:\n" + "\n".join(f"    {line}" for line in lines)
