"""The native models: LightGBM alone, and LightGBM + CatBoost stacked by a linear meta model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import lightgbm as lgb
import numpy as np
from catboost import CatBoostRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold

SEED: Final[int] = 20181231
STACK_FOLDS: Final[int] = 5
# Small enough that all ONNX files together stay far below 10 MB, large enough for ~0.3 kWh RMSE.
LIGHTGBM_PARAMS: Final[dict[str, Any]] = {
    "n_estimators": 500,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "random_state": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "n_jobs": 2,
    "verbose": -1,
}
CATBOOST_PARAMS: Final[dict[str, Any]] = {
    "iterations": 500,
    "depth": 6,
    "learning_rate": 0.1,
    "random_seed": SEED,
    "thread_count": 2,
    "verbose": 0,
    "allow_writing_files": False,
}


def fit_lightgbm(x: np.ndarray, y: np.ndarray) -> lgb.LGBMRegressor:
    """A LightGBM regressor fitted on float32 features `x` and kWh `y`."""
    return lgb.LGBMRegressor(**LIGHTGBM_PARAMS).fit(x, y)


def fit_catboost(x: np.ndarray, y: np.ndarray) -> CatBoostRegressor:
    """A CatBoost regressor fitted on float32 features `x` and kWh `y`."""
    model = CatBoostRegressor(**CATBOOST_PARAMS)
    model.fit(x, y)
    return model


@dataclass(frozen=True)
class Stack:
    """Base models refitted on all training rows and a meta model fitted on their out-of-fold predictions."""

    lightgbm: lgb.LGBMRegressor
    catboost: CatBoostRegressor
    meta: LinearRegression

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Native stacked prediction, float32 between the stages as in the ONNX graphs."""
        base = np.column_stack((self.lightgbm.predict(x), self.catboost.predict(x))).astype(np.float32)
        result: np.ndarray = self.meta.predict(base)
        return result


def fit_stack(x: np.ndarray, y: np.ndarray) -> Stack:
    """Out-of-fold base predictions (KFold) train the meta model, so it never sees fitted-on rows."""
    out_of_fold = np.zeros((len(y), 2), dtype=np.float32)
    for fit_rows, predict_rows in KFold(STACK_FOLDS, shuffle=True, random_state=SEED).split(x):
        out_of_fold[predict_rows, 0] = fit_lightgbm(x[fit_rows], y[fit_rows]).predict(x[predict_rows])
        out_of_fold[predict_rows, 1] = fit_catboost(x[fit_rows], y[fit_rows]).predict(x[predict_rows])
    meta = LinearRegression().fit(out_of_fold, y)
    return Stack(fit_lightgbm(x, y), fit_catboost(x, y), meta)
