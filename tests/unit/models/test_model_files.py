"""The committed model sets: valid for the service, checksummed, small and accurate as recorded."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from models import ONNX_DIR
from service.features import FEATURE_NAMES, FEATURE_UNITS, RAW_FIELDS
from service.model_store import load_model_set, metadata_path
from service.settings import MODEL_TYPES

MAX_DIRECTORY_BYTES = 10 * 1024 * 1024
MAX_HOLDOUT_RMSE = {"lightgbm": 1.5, "lightgbm_ensemble": 1.0}


@pytest.fixture(params=MODEL_TYPES)
def model_type(request: pytest.FixtureRequest) -> str:
    """Each model type the service can serve."""
    model_type: str = request.param
    return model_type


@pytest.fixture
def metadata(model_type: str) -> dict[str, Any]:
    """The metadata of the committed model set, as the service verified and loaded it."""
    return load_model_set(ONNX_DIR, model_type).metadata


def test_every_model_type_has_a_recorded_rmse_limit() -> None:
    assert set(MODEL_TYPES) == set(MAX_HOLDOUT_RMSE)


def test_model_set_loads_through_the_service(model_type: str) -> None:
    model_set = load_model_set(ONNX_DIR, model_type)
    assert model_set.model_type == model_type
    assert model_set.model_version == model_set.metadata["model_version"]


def test_checksums_match_the_files(model_type: str, metadata: dict[str, Any]) -> None:
    directory = metadata_path(ONNX_DIR, model_type).parent
    for name, digest in metadata["files"].items():
        assert hashlib.sha256((directory / name).read_bytes()).hexdigest() == digest, name


def test_every_onnx_file_belongs_to_a_model_set() -> None:
    listed = {
        metadata_path(ONNX_DIR, model_type).parent / name
        for model_type in MODEL_TYPES
        for name in load_model_set(ONNX_DIR, model_type).metadata["files"]
    }
    assert set(ONNX_DIR.rglob("*.onnx")) == listed


def test_model_directory_is_at_most_10_mb() -> None:
    size = sum(path.stat().st_size for path in ONNX_DIR.rglob("*") if path.is_file())
    assert 0 < size <= MAX_DIRECTORY_BYTES


def test_input_contract_lists_features_with_units(metadata: dict[str, Any]) -> None:
    assert metadata["input"]["dtype"] == "float32"
    assert metadata["input"]["features"] == [{"name": n, "unit": FEATURE_UNITS[n]} for n in FEATURE_NAMES]
    assert metadata["output"] == {"name": "predicted_usage_kwh", "unit": "kWh"}


def test_recorded_holdout_rmse_is_within_the_limit(model_type: str, metadata: dict[str, Any]) -> None:
    holdout = metadata["metrics"]["chronological_holdout"]
    assert 0 < holdout["rmse"] <= MAX_HOLDOUT_RMSE[model_type]
    assert metadata["metrics"]["random_split"]["rmse"] <= MAX_HOLDOUT_RMSE[model_type]


def test_raw_input_ranges_are_in_the_service_units(metadata: dict[str, Any]) -> None:
    ranges = metadata["raw_input_ranges"]
    assert list(ranges) == list(RAW_FIELDS)
    for field in ("lagging_power_factor", "leading_power_factor"):
        assert 0.0 <= ranges[field]["min"] <= ranges[field]["quantiles"]["p50"] <= ranges[field]["max"] <= 1.0
    assert ranges["nsm"]["max"] <= 86399
    for field in ("day_of_week", "load_type"):
        assert sum(ranges[field]["shares"].values()) == pytest.approx(1.0)
