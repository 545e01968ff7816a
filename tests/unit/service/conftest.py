"""Fixtures for the service tests: the repo's real ONNX model sets, copies of them to break, the real server."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.unit.service.server_process import Server

REPO_ROOT = Path(__file__).resolve().parents[3]
MODELS_DIR = REPO_ROOT / "models" / "onnx"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The embedded model directory the image ships (models/onnx), read-only for tests."""
    if not (MODELS_DIR / "lightgbm_ensemble" / "metadata.json").is_file():
        pytest.fail(f"{MODELS_DIR} holds no trained model sets: train them first", pytrace=False)
    return MODELS_DIR


@pytest.fixture
def model_copy(models_dir: Path, tmp_path: Path) -> Path:
    """A private copy of models/onnx that a test may break."""
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    return copy


@pytest.fixture
def start_server(models_dir: Path, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Factory: `start_server(**env)` runs the real gunicorn server on the repo's models; stopped at the end."""
    started: list[Server] = []

    def start(**env: str) -> Server:
        defaults = {"EMBEDDED_MODEL_PATH": str(models_dir), "EXTERNAL_MODEL_PATH": str(tmp_path / "absent")}
        server = Server(REPO_ROOT, {**defaults, **env}, tmp_path / f"server-{len(started)}.log")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
