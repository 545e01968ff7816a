"""The committed ONNX models, recomputed on the chronological hold-out of the real CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models import ONNX_DIR
from models.dataset import chronological_split, load_steel_csv
from service.model_store import ModelSet, load_model_set
from service.settings import MODEL_TYPES

pytestmark = pytest.mark.data

RMSE_TOLERANCE = 1e-4  # kWh: the same ONNX files on the same rows, so only summation order differs
MAX_ENSEMBLE_RMSE = 1.0
# Measured when training: mean |native - ONNX| ~1e-5 kWh, max ~0.03 kWh where float32 thresholds flip a split.
MAX_PARITY_MEAN = 0.01
MAX_PARITY_MAX = 0.1
SINGLE_CALL_ROWS = 200


@pytest.fixture(params=MODEL_TYPES)
def model_set(request: pytest.FixtureRequest) -> ModelSet:
    """Each committed model set, verified and loaded by the service's model store."""
    return load_model_set(ONNX_DIR, request.param)


@pytest.fixture(scope="module")
def holdout(steel_data_path: Path) -> tuple[np.ndarray, np.ndarray, str, int]:
    """Raw rows and targets of the last 20 % by time, the CSV's sha256 and its row count."""
    data = load_steel_csv(steel_data_path)
    _, test_rows = chronological_split(len(data.target))
    return data.raw[test_rows], data.target[test_rows], data.sha256, len(data.target)


def test_models_were_trained_on_this_csv(model_set: ModelSet, holdout: tuple[Any, ...]) -> None:
    _, _, sha256, rows = holdout
    assert model_set.metadata["training_data"]["sha256"] == sha256
    assert model_set.metadata["training_data"]["rows"] == rows


def test_holdout_rmse_matches_the_metadata(model_set: ModelSet, holdout: tuple[Any, ...]) -> None:
    raw, target, _, _ = holdout
    predicted = model_set.predictor.predict(raw).astype(np.float64)
    rmse = float(np.sqrt(np.mean((predicted - target) ** 2)))
    recorded = model_set.metadata["metrics"]["chronological_holdout"]
    assert recorded["rows"] == len(target)
    assert rmse == pytest.approx(recorded["rmse"], abs=RMSE_TOLERANCE)
    if model_set.model_type == "lightgbm_ensemble":
        assert rmse <= MAX_ENSEMBLE_RMSE


def test_single_calls_equal_the_batch_call(model_set: ModelSet, holdout: tuple[Any, ...]) -> None:
    raw = holdout[0][:SINGLE_CALL_ROWS]
    batch = model_set.predictor.predict(raw)
    singles = np.concatenate([model_set.predictor.predict(raw[i : i + 1]) for i in range(len(raw))])
    np.testing.assert_array_equal(singles, batch)


def test_recorded_native_onnx_parity_is_small(model_set: ModelSet, holdout: tuple[Any, ...]) -> None:
    parity = model_set.metadata["parity"]
    assert parity["rows"] == len(holdout[1])
    assert parity["mean_abs_diff"] < MAX_PARITY_MEAN
    assert parity["max_abs_diff"] < MAX_PARITY_MAX
