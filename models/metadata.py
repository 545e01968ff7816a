"""The metadata a model set carries: contract, metrics, parity, raw-input ranges, provenance."""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np

from models.dataset import DAY_NAMES
from service.features import FEATURE_ENGINEERING_VERSION, FEATURE_NAMES, FEATURE_UNITS, LOAD_TYPES, RAW_FIELDS
from service.model_store import SCHEMA_VERSION

DATA_SOURCE: Final[str] = (
    "UCI Machine Learning Repository, dataset 851 (Steel Industry Energy Consumption), CC BY 4.0"
)
LIBRARIES: Final[tuple[str, ...]] = (
    "lightgbm",
    "catboost",
    "scikit-learn",
    "onnx",
    "onnxmltools",
    "skl2onnx",
    "onnxruntime",
    "numpy",
    "pandas",
)
QUANTILES: Final[dict[str, float]] = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.50,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}
# Raw fields that are categories: their ranges are the share of each value, keyed by name.
CATEGORY_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "day_of_week": DAY_NAMES,
    "load_type": LOAD_TYPES,
}


def regression_metrics(y: np.ndarray, predicted: np.ndarray, split: str) -> dict[str, Any]:
    """RMSE, MAE (kWh) and R² of `predicted` against `y`, with the split they were measured on."""
    error = predicted.astype(np.float64) - y
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "r2": float(1.0 - np.sum(error**2) / np.sum((y - y.mean()) ** 2)),
        "rows": len(y),
        "split": split,
    }


def parity(native: np.ndarray, onnx: np.ndarray) -> dict[str, Any]:
    """How far the ONNX predictions stray from the native ones (float32 thresholds flip rare rows)."""
    diff = np.abs(native.astype(np.float64) - onnx.astype(np.float64))
    return {"max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean()), "rows": len(diff)}


def raw_input_ranges(raw: np.ndarray) -> dict[str, Any]:
    """Per raw field in the service's units: numeric summary and quantiles, or category shares."""
    ranges: dict[str, Any] = {}
    for column, field in enumerate(RAW_FIELDS):
        values = raw[:, column]
        if field in CATEGORY_NAMES:
            names = CATEGORY_NAMES[field]
            shares = {name: float(np.mean(values == code)) for code, name in enumerate(names)}
            ranges[field] = {"shares": shares}
            continue
        ranges[field] = {
            "unit": FEATURE_UNITS[field],
            "min": float(values.min()),
            "max": float(values.max()),
            "mean": float(values.mean()),
            "std": float(values.std()),
            "quantiles": {key: float(np.quantile(values, q)) for key, q in QUANTILES.items()},
        }
    return ranges


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that trained and converted the models."""
    versions = {name: importlib.metadata.version(name) for name in LIBRARIES}
    versions["python"] = platform.python_version()
    return versions


def sha256_hex(content: bytes) -> str:
    """Hex sha256 of a model file's bytes."""
    return hashlib.sha256(content).hexdigest()


def model_version(files: dict[str, bytes], now: datetime) -> str:
    """`yyyy.mm.dd-<hash>`: the training day and a short hash over every model file of the set."""
    digest = hashlib.sha256("".join(sha256_hex(files[name]) for name in sorted(files)).encode()).hexdigest()
    return f"{now:%Y.%m.%d}-{digest[:8]}"


def build_metadata(
    *,
    model_type: str,
    files: dict[str, bytes],
    stacking: dict[str, Any] | None,
    metrics: dict[str, Any],
    parity_figures: dict[str, Any],
    raw_ranges: dict[str, Any],
    data_sha256: str,
    data_rows: int,
    training_rows: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The metadata document service.model_store validates, plus what it is worth knowing about the model."""
    now = now or datetime.now(UTC)
    return {
        "schema_version": SCHEMA_VERSION,
        "model_type": model_type,
        "model_version": model_version(files, now),
        "created_at": now.isoformat(timespec="seconds"),
        "feature_engineering_version": FEATURE_ENGINEERING_VERSION,
        "input": {
            "dtype": "float32",
            "features": [{"name": name, "unit": FEATURE_UNITS[name]} for name in FEATURE_NAMES],
        },
        "output": {"name": "predicted_usage_kwh", "unit": "kWh"},
        "files": {name: sha256_hex(content) for name, content in files.items()},
        "model_file": None if stacking is not None else next(iter(files)),
        "stacking": stacking,
        "metrics": metrics,
        "parity": parity_figures,
        "raw_input_ranges": raw_ranges,
        "training_data": {
            "source": DATA_SOURCE,
            "sha256": data_sha256,
            "rows": data_rows,
            "training_rows": training_rows,
        },
        "libraries": library_versions(),
    }
