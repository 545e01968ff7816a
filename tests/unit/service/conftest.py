"""Fixtures for the service tests: the repo's real ONNX model sets and copies of them to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

MODELS_DIR = Path(__file__).resolve().parents[3] / "models" / "onnx"


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
