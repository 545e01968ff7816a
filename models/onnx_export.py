"""Native models → ONNX bytes with one float32 (N, width) input and the prediction as first output."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Final

import lightgbm as lgb
import onnx
from catboost import CatBoostRegressor
from onnxmltools import convert_lightgbm
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LinearRegression

# Versions ONNX Runtime 1.19 and later load; opset 15 is the newest onnxmltools converts LightGBM to.
TARGET_OPSET: Final[int] = 15
IR_VERSION: Final[int] = 8
FEATURES_INPUT: Final[str] = "features"
META_INPUT: Final[str] = "base_predictions"


def lightgbm_onnx(model: lgb.LGBMRegressor, width: int) -> bytes:
    """The LightGBM regressor as ONNX (onnxmltools)."""
    proto = convert_lightgbm(
        model,
        name="lightgbm",
        initial_types=[(FEATURES_INPUT, FloatTensorType([None, width]))],
        target_opset=TARGET_OPSET,
        zipmap=False,
    )
    return _serialise(proto)


def catboost_onnx(model: CatBoostRegressor) -> bytes:
    """The CatBoost regressor through CatBoost's own ONNX export."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catboost.onnx"
        model.save_model(str(path), format="onnx", export_parameters={"onnx_graph_name": "catboost"})
        proto = onnx.load_model(str(path))
    # CatBoost stamps a training time and a random GUID in here; dropping them keeps exports reproducible.
    del proto.metadata_props[:]
    proto.doc_string = ""
    return _serialise(proto)


def linear_onnx(model: LinearRegression, width: int) -> bytes:
    """The linear meta model as ONNX (skl2onnx), taking the base models' predictions as columns."""
    proto = convert_sklearn(
        model,
        name="meta",
        initial_types=[(META_INPUT, FloatTensorType([None, width]))],
        target_opset=TARGET_OPSET,
    )
    return _serialise(proto)


def _serialise(proto: onnx.ModelProto) -> bytes:
    """Pin the IR version for older runtimes, check the graph and return its bytes."""
    proto.ir_version = IR_VERSION
    onnx.checker.check_model(proto)
    data: bytes = proto.SerializeToString()
    return data
