"""Options shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# pytester runs the harness plugin in a child pytest (tests/container/test_generality.py).
pytest_plugins = ["pytester"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--steel-data",
        default=os.environ.get("STEEL_DATA_CSV"),
        help="path to the UCI steel-industry CSV (or set STEEL_DATA_CSV); tests marked `data` need it",
    )


@pytest.fixture(scope="session")
def steel_data_path(pytestconfig: pytest.Config) -> Path:
    """The CSV the models were trained on; a missing path fails the test, it never skips."""
    value = pytestconfig.getoption("--steel-data")
    if not value:
        pytest.fail("this test needs the steel CSV: pass --steel-data PATH or set STEEL_DATA_CSV", pytrace=False)
    path = Path(value)
    if not path.is_file():
        pytest.fail(f"--steel-data {path}: no such file", pytrace=False)
    return path
