"""Whether a pytest run is a harness run, decided from options and files alone, so that the plugin imports the
engine, configuration and report stack (docker, testcontainers, pydantic, rich) only for runs that use it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

MARKER = "container"
_PYPROJECT = pytest.StashKey["dict[str, Any] | None"]()  # the rootdir's pyproject.toml, read once per run


def is_active(config: pytest.Config) -> bool:
    """A harness option was given, `-m` selects container tests, or the project has a harness configuration."""
    options = config.option
    if options.harness or options.harness_checks or options.harness_ab_baseline:
        return True
    return requires_container_marker(options.markexpr) or has_configuration(config)


def requires_container_marker(markexpr: str) -> bool:
    """Whether a `-m` expression selects tests marked `container` and only those."""
    if not markexpr:
        return False
    # Private, and kept: pytest (9.2) has no public evaluator of `-m` expressions (pytest.Mark and
    # Node.iter_markers give an item's marks, not the expression's answer), and a parser of our own would be a
    # second grammar that drifts from pytest's. test_plugin's selection tests fail if this module changes.
    from _pytest.mark.expression import Expression

    expression = Expression.compile(markexpr)

    def marked(*names: str) -> Callable[..., bool]:
        return lambda name, /, **kwargs: name in names

    return expression.evaluate(marked(MARKER)) and not expression.evaluate(marked())


def has_configuration(config: pytest.Config) -> bool:
    """Whether the run has a harness configuration: --harness-config, the ini option, or [tool.harness]."""
    if config_file(config) is not None:
        return True
    document = pyproject(config)
    if document is None:
        # No pyproject.toml, or not valid TOML: then let the harness's own reading name the syntax error, rather
        # than quietly stay away.
        return (Path(config.rootpath) / "pyproject.toml").is_file()
    tool = document.get("tool", {})
    return isinstance(tool, dict) and "harness" in tool


def pyproject(config: pytest.Config) -> dict[str, Any] | None:
    """The rootdir's pyproject.toml as parsed, None when there is none or it is not valid TOML.

    Read on first use and kept: activation asks, the session choosing checks asks again, and the configuration
    is read from it (config.load_config's `pyproject`), all from one parse.
    """
    if _PYPROJECT not in config.stash:
        config.stash[_PYPROJECT] = _parsed(Path(config.rootpath) / "pyproject.toml")
    return config.stash[_PYPROJECT]


def _parsed(path: Path) -> dict[str, Any] | None:
    """A TOML file's document, or None when it is missing or not valid TOML."""
    if not path.is_file():
        return None
    import tomllib  # here, not at the top: the plugin's import stays a few milliseconds in every pytest run

    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError:
        return None


def config_file(config: pytest.Config) -> Path | None:
    """--harness-config, else the harness_config ini option (relative to the rootdir)."""
    value = config.getoption("--harness-config") or config.getini("harness_config")
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else Path(config.rootpath) / path


def xdist_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker (xdist's own test: its config has `workerinput`)."""
    return hasattr(config, "workerinput")


def xdist_distributes(config: pytest.Config) -> bool:
    """Whether pytest-xdist spreads this run over workers: this is one, or the controller that starts them.

    The controller's test is xdist's own (a --dist mode, `-n N`'s or given, with workers to run it, and not
    --collect-only), from options xdist has settled before any plugin's pytest_configure.
    """
    if xdist_worker(config):
        return True
    spreads = config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))
    return spreads and not config.getoption("collectonly")
