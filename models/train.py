"""Train, convert and describe both model sets: `python -m models.train --data PATH [--out models/onnx]`."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from models import ONNX_DIR
from models.dataset import SteelData, chronological_split, load_steel_csv, random_split
from models.estimators import SEED, fit_lightgbm, fit_stack
from models.metadata import build_metadata, parity, raw_input_ranges, regression_metrics
from models.onnx_export import catboost_onnx, lightgbm_onnx, linear_onnx
from service.features import FEATURE_NAMES, build_features
from service.model_store import metadata_path
from service.predictor import OnnxModel, Predictor

WIDTH: Final[int] = len(FEATURE_NAMES)


@dataclass(frozen=True)
class Trained:
    """One fitted model set: its ONNX files, stacking layout and the native predict for parity."""

    files: dict[str, bytes]
    stacking: dict[str, Any] | None
    native: Callable[[np.ndarray], np.ndarray]

    def predictor(self) -> Predictor:
        """The service's predictor over these ONNX files, so metrics measure what will serve."""
        if self.stacking is None:
            ((name, content),) = self.files.items()
            return Predictor([OnnxModel(name, content, WIDTH)], None)
        base = [OnnxModel(name, self.files[name], WIDTH) for name in self.stacking["base_models"]]
        meta_name = self.stacking["meta_model"]
        return Predictor(base, OnnxModel(meta_name, self.files[meta_name], len(base)))


def train_lightgbm(x: np.ndarray, y: np.ndarray) -> Trained:
    """A single LightGBM model set."""
    model = fit_lightgbm(x, y)
    return Trained(
        {"lightgbm.onnx": lightgbm_onnx(model, WIDTH)}, None, lambda x: np.asarray(model.predict(x))
    )


def train_ensemble(x: np.ndarray, y: np.ndarray) -> Trained:
    """LightGBM and CatBoost stacked by a linear meta model on their out-of-fold predictions."""
    stack = fit_stack(x, y)
    files = {
        "lightgbm_base_lightgbm.onnx": lightgbm_onnx(stack.lightgbm, WIDTH),
        "lightgbm_base_catboost.onnx": catboost_onnx(stack.catboost),
        "lightgbm_meta.onnx": linear_onnx(stack.meta, 2),
    }
    stacking = {
        "base_models": ["lightgbm_base_lightgbm.onnx", "lightgbm_base_catboost.onnx"],
        "meta_model": "lightgbm_meta.onnx",
        "meta_input": "base_predictions",
    }
    return Trained(files, stacking, stack.predict)


TRAINERS: Final[dict[str, Callable[[np.ndarray, np.ndarray], Trained]]] = {
    "lightgbm": train_lightgbm,
    "lightgbm_ensemble": train_ensemble,
}


def train_model_set(model_type: str, data: SteelData, out: Path) -> dict[str, Any]:
    """Fit on the chronological first 80 %, measure on the rest and on a random split, write the set."""
    trainer = TRAINERS[model_type]
    features = build_features(data.raw)
    train_rows, test_rows = chronological_split(len(data.target))
    trained = trainer(features[train_rows], data.target[train_rows])
    served = trained.predictor().predict(data.raw[test_rows])
    native = trained.native(features[test_rows])
    random_train, random_test = random_split(len(data.target), SEED)
    shuffled = trainer(features[random_train], data.target[random_train])
    metrics = {
        "chronological_holdout": regression_metrics(data.target[test_rows], served, "last 20 % by time"),
        "random_split": regression_metrics(
            data.target[random_test],
            shuffled.predictor().predict(data.raw[random_test]),
            f"random 20 %, seed {SEED}",
        ),
    }
    metadata = build_metadata(
        model_type=model_type,
        files=trained.files,
        stacking=trained.stacking,
        metrics=metrics,
        parity_figures=parity(native, served),
        raw_ranges=raw_input_ranges(data.raw[train_rows]),
        data_sha256=data.sha256,
        data_rows=len(data.target),
        training_rows=len(train_rows),
    )
    meta_file = metadata_path(out, model_type)
    meta_file.parent.mkdir(parents=True, exist_ok=True)
    for name, content in trained.files.items():
        (meta_file.parent / name).write_bytes(content)
    meta_file.write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def summary_line(model_type: str, metadata: dict[str, Any], size: int, seconds: float) -> str:
    """One readable line of figures for a trained model set of `size` bytes."""
    chrono, shuffled = metadata["metrics"]["chronological_holdout"], metadata["metrics"]["random_split"]
    return (
        f"{model_type}: hold-out RMSE {chrono['rmse']:.3f} MAE {chrono['mae']:.3f} R² {chrono['r2']:.5f} | "
        f"random RMSE {shuffled['rmse']:.3f} R² {shuffled['r2']:.5f} | "
        f"parity max {metadata['parity']['max_abs_diff']:.2e} "
        f"mean {metadata['parity']['mean_abs_diff']:.2e} kWh | "
        f"{size / 1e6:.2f} MB | {seconds:.1f} s"
    )


def main(argv: list[str] | None = None) -> None:
    """Train both model sets from the CSV at --data and write them under --out."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="the UCI steel-industry CSV")
    parser.add_argument(
        "--out", type=Path, default=ONNX_DIR, help="model directory (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    data = load_steel_csv(args.data)
    for model_type in TRAINERS:
        started = time.perf_counter()
        metadata = train_model_set(model_type, data, args.out)
        directory = metadata_path(args.out, model_type).parent
        size = sum((directory / name).stat().st_size for name in metadata["files"])
        print(summary_line(model_type, metadata, size, time.perf_counter() - started))
    total = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file())
    print(f"{args.out}: {total / 1e6:.2f} MB in all")


if __name__ == "__main__":
    main()
