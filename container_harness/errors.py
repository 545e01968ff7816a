"""Errors a harness user can act on: each message names what was expected and what was seen, and each error
carries a hint, the next thing to try. Every error class of the package lives here."""

from __future__ import annotations

__all__ = [
    "AbInputError",
    "BaseImageMissingError",
    "BudgetFileError",
    "BuildError",
    "ConfigError",
    "ContainerExitedError",
    "DockerfileError",
    "EngineUnavailableError",
    "GateInputError",
    "HarnessError",
    "LoadRunError",
    "ReadinessTimeoutError",
    "format_tail",
]


class HarnessError(Exception):
    """Base of every harness error: `message` says what happened, `hint` the next thing to try; str() has both."""

    hint = "see the message above"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}"


class ConfigError(HarnessError):
    """The harness configuration ([tool.harness], a config file or an option) is invalid."""

    hint = "fix the key named above; container_harness/README.md lists every key"


class AbInputError(HarnessError):
    """An A/B comparison cannot be made fairly: a missing image or ref, differing settings, a bound client."""

    hint = "both images must exist and run under one configuration; see `container-harness ab --help`"


class BudgetFileError(HarnessError):
    """A budgets file cannot be read or holds an invalid budget."""

    hint = "each [[budget]] needs name, max or min, and may give unit and note"


class GateInputError(HarnessError):
    """A report, baseline or tolerances file given to the gate cannot be used."""

    hint = "pass report.json files written by the harness, and TOML tolerances"


class EngineUnavailableError(HarnessError):
    """The Docker engine could not be reached."""

    hint = "start the engine or set DOCKER_HOST, then check `docker info`"


class BaseImageMissingError(HarnessError):
    """A base image named by a FROM line is not on the engine and the harness never pulls."""

    hint = "pull or load the base image, or set base_provider to a script that provides it"


class DockerfileError(HarnessError):
    """A Dockerfile's FROM lines cannot be resolved to base images."""

    hint = "give the ARG a default on its ARG line or pass it as a build arg (`${VAR:-default}` is not expanded)"


class BuildError(HarnessError):
    """A build step failed; carries the failing step and the last lines of the build log."""

    hint = "run the failing step by hand; the log's end is above"

    def __init__(self, message: str, step: str | None, log_tail: list[str], *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.step = step
        self.log_tail = log_tail


class ContainerExitedError(HarnessError):
    """The container stopped while the harness was waiting for it; carries its exit code and last logs."""

    hint = "read the container's last log lines; run the image by hand with the same settings"

    def __init__(
        self, message: str, exit_code: int | None, log_tail: list[str], *, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code
        self.log_tail = log_tail


class ReadinessTimeoutError(HarnessError):
    """The awaited HTTP answer or health status did not come in time."""

    hint = "check run.port, run.health_path and that the server listens on 0.0.0.0 inside the container"


class LoadRunError(HarnessError):
    """The load generator could not run or measured nothing."""

    hint = "run the printed Locust command by hand and read its log"


def format_tail(lines: list[str], heading: str = "last log lines") -> str:
    """Indented block of log lines for an error message (or a note that there were none)."""
    if not lines:
        return f"{heading}: (none)"
    return f"{heading}:\n" + "\n".join(f"    {line}" for line in lines)


class ImageMissingError(HarnessError):
    """An image the harness was given or just built is not on the engine (and the harness never pulls)."""

    hint = "build or load it first, or check the tag; another run's clean-up or `docker image prune` may remove it"
