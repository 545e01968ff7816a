"""Which errors blame the user's input (exit 2) and which the harness (exit 3), and the config-file hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from container_harness import errors
from container_harness.exit_codes import EXIT_BAD_INPUT, EXIT_HARNESS_FAILED


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.ConfigError("x"), EXIT_BAD_INPUT),
        (errors.ConfigNotFoundError("x", looked_for=Path("/p/pyproject.toml")), EXIT_BAD_INPUT),
        (errors.AbInputError("x"), EXIT_BAD_INPUT),
        (errors.BudgetFileError("x"), EXIT_BAD_INPUT),
        (errors.GateInputError("x"), EXIT_BAD_INPUT),
        (errors.BaseImageMissingError("x"), EXIT_BAD_INPUT),
        (errors.DockerfileError("x"), EXIT_BAD_INPUT),
        (errors.ImageError("x"), EXIT_BAD_INPUT),
        (errors.ContainerExitedError("x", 1, []), EXIT_BAD_INPUT),
        (errors.ReadinessTimeoutError("x"), EXIT_BAD_INPUT),
        (errors.BuildError("RUN make failed", "RUN make", ["make: error"]), EXIT_BAD_INPUT),
        (errors.BuildError("the log ended without an image id", None, []), EXIT_HARNESS_FAILED),
        (errors.EngineUnavailableError("x"), EXIT_HARNESS_FAILED),
        (errors.LoadRunError("x"), EXIT_HARNESS_FAILED),
        (errors.CleanupError("x"), EXIT_HARNESS_FAILED),
        (errors.MissingExtraError("ab", "load", ["locust"]), EXIT_HARNESS_FAILED),
        (errors.HarnessError("x"), EXIT_HARNESS_FAILED),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_each_error_ends_a_command_with_the_contracts_code(error: errors.HarnessError, code: int) -> None:
    assert error.command_exit_code == code


def test_every_error_class_is_in_the_table_above() -> None:
    classes = {getattr(errors, name) for name in errors.__all__ if isinstance(getattr(errors, name), type)}
    tested = {
        errors.ConfigError, errors.ConfigNotFoundError, errors.AbInputError, errors.BudgetFileError,
        errors.GateInputError, errors.BaseImageMissingError, errors.DockerfileError, errors.ImageError,
        errors.ContainerExitedError, errors.ReadinessTimeoutError, errors.BuildError,
        errors.EngineUnavailableError, errors.LoadRunError, errors.MissingExtraError, errors.HarnessError,
        errors.CleanupError,
    }  # fmt: skip
    assert classes == tested


def test_a_missing_config_names_the_path_and_the_front_doors_option() -> None:
    missing = errors.ConfigNotFoundError("no harness configuration", looked_for=Path("/p/pyproject.toml"))
    assert "create /p/pyproject.toml with a [tool.harness] table" in missing.hint
    assert "`--config FILE` to the command, `--harness-config FILE` to pytest" in missing.hint
    narrowed = missing.for_option("--harness-config")
    assert narrowed.hint.endswith("or pass --harness-config FILE")
    assert (narrowed.message, narrowed.looked_for) == (missing.message, missing.looked_for)


def test_an_error_without_a_hint_is_its_message_alone() -> None:
    assert str(errors.MissingExtraError("trend", "load", ["matplotlib"])).count("\n") == 0
    assert str(errors.LoadRunError("nothing measured")).endswith("\n  hint: " + errors.LoadRunError.hint)
