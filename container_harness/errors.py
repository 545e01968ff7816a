"""Errors a harness user can act on: each message names what was expected and what was seen, and each error
carries a hint, the next thing to try, and the exit code a command ends with: 2 when the user's input is at
fault, 3 when the harness or what it runs on failed. Every error class of the package lives here."""

from __future__ import annotations

from pathlib import Path

from container_harness.exit_codes import EXIT_BAD_INPUT, EXIT_HARNESS_FAILED

__all__ = [
    "AbInputError",
    "BaseImageMissingError",
    "BudgetFileError",
    "BuildError",
    "CleanupError",
    "ConfigError",
    "ConfigNotFoundError",
    "ContainerExitedError",
    "DockerfileError",
    "EngineUnavailableError",
    "GateInputError",
    "HarnessError",
    "ImageError",
    "LoadRunError",
    "MissingExtraError",
    "ReadinessTimeoutError",
    "format_tail",
]


class HarnessError(Exception):
    """Base of every harness error: `message` says what happened, `hint` the next thing to try; str() has both."""

    hint = "run it again with the same settings; if it repeats, report it with the message above"
    command_exit_code = EXIT_HARNESS_FAILED  # what a `container-harness` command exits with when this ends it

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(HarnessError):
    """The harness configuration ([tool.harness], a config file or an option) is invalid."""

    hint = "fix the key named above; container_harness/README.md lists every key"
    command_exit_code = EXIT_BAD_INPUT


class ConfigNotFoundError(ConfigError):
    """No harness configuration where the harness looked: the file is missing, or pyproject.toml has no table."""

    def __init__(self, message: str, *, looked_for: Path, file_option: str | None = None) -> None:
        options = (
            f"pass {file_option} FILE"
            if file_option
            else "pass a harness TOML (`--config FILE` to the command, `--harness-config FILE` to pytest)"
        )
        super().__init__(
            message,
            hint=f"create {looked_for} with a [tool.harness] table (at least `tag` and `run.port`), or {options}",
        )
        self.looked_for = looked_for

    def for_option(self, file_option: str) -> ConfigNotFoundError:
        """The same error whose hint names the config-file option of the front door in use."""
        return ConfigNotFoundError(self.message, looked_for=self.looked_for, file_option=file_option)


class AbInputError(HarnessError):
    """An A/B comparison cannot be made fairly: a missing image or ref, differing settings, a bound client."""

    hint = "both images must exist and run under one configuration; see `container-harness ab --help`"
    command_exit_code = EXIT_BAD_INPUT


class BudgetFileError(HarnessError):
    """A budgets file cannot be read or holds an invalid budget."""

    hint = "each [[budget]] needs name, max or min, and may give unit and note"
    command_exit_code = EXIT_BAD_INPUT


class GateInputError(HarnessError):
    """A report, baseline or tolerances file given to the gate cannot be used."""

    hint = "pass report.json files written by the harness, and TOML tolerances"
    command_exit_code = EXIT_BAD_INPUT


class EngineUnavailableError(HarnessError):
    """The Docker engine could not be reached."""

    hint = "start the engine or set DOCKER_HOST, then check `docker info`"


class BaseImageMissingError(HarnessError):
    """A base image named by a FROM line is not on the engine and the harness never pulls."""

    hint = "pull or load the base image, or set base_provider to a script that provides it"
    command_exit_code = EXIT_BAD_INPUT


class DockerfileError(HarnessError):
    """A Dockerfile's FROM lines cannot be resolved to base images."""

    hint = "give the ARG a default on its ARG line or pass it as a build arg (`${VAR:-default}` is not expanded)"
    command_exit_code = EXIT_BAD_INPUT


class BuildError(HarnessError):
    """A build step failed; carries the failing step and the last lines of the build log."""

    hint = "run the failing step by hand; the log's end is above"

    def __init__(self, message: str, step: str | None, log_tail: list[str], *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.step = step
        self.log_tail = log_tail
        # A step of the user's Dockerfile failed: their input. No step: the log ended without an image id
        # (truncated) or the builder could not run, which the harness must not blame on the input.
        self.command_exit_code = EXIT_BAD_INPUT if step is not None else EXIT_HARNESS_FAILED


class ImageError(HarnessError):
    """The image under test lacks what a check needs: it is not on the engine, or has no HEALTHCHECK or port."""

    hint = "build the image first and check its tag with `docker image ls`"
    command_exit_code = EXIT_BAD_INPUT


class ContainerExitedError(HarnessError):
    """The container stopped while the harness was waiting for it; carries its exit code and last logs."""

    hint = "read the container's last log lines; run the image by hand with the same settings"
    command_exit_code = EXIT_BAD_INPUT

    def __init__(
        self, message: str, exit_code: int | None, log_tail: list[str], *, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code
        self.log_tail = log_tail


class ReadinessTimeoutError(HarnessError):
    """The awaited HTTP answer or health status did not come in time."""

    hint = "check run.port, run.health_path and that the server listens on 0.0.0.0 inside the container"
    command_exit_code = EXIT_BAD_INPUT


class LoadRunError(HarnessError):
    """The load generator could not run or measured nothing."""

    hint = "run the printed Locust command by hand and read its log"


class CleanupError(HarnessError):
    """Clean-up could not remove some of a run's objects from the engine (it removed all the others)."""


class MissingExtraError(HarnessError):
    """A command needs an optional extra (such as `load`: Locust, matplotlib, scipy) that is not installed."""

    def __init__(self, command: str, extra: str, missing: list[str]) -> None:
        super().__init__(
            f"`{command}` needs the [{extra}] extra ({', '.join(missing)} not installed): "
            f"pip install 'container-harness[{extra}]' (from a file: pip install '<wheel or checkout>[{extra}]')",
            hint="",  # the message says how to install: one line
        )


def format_tail(lines: list[str], heading: str = "last log lines") -> str:
    """Indented block of log lines for an error message (or a note that there were none)."""
    if not lines:
        return f"{heading}: (none)"
    return f"{heading}:\n" + "\n".join(f"    {line}" for line in lines)
