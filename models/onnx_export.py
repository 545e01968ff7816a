"""Native models → ONNX bytes with one float32 (N, width) input and the prediction as first output."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Final

import lightgbm as lgb
import numpy as np
import onnx
from catboost import CatBoostRegressor
from onnx import TensorProto, helper, numpy_helper
from onnxmltools import convert_lightgbm
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LinearRegression

# Versions ONNX Runtime 1.19 and later load; opset 15 is the newest onnxmltools converts LightGBM to.
TARGET_OPSET: Final[int] = 15
IR_VERSION: Final[int] = 8
FEATURES_INPUT: Final[str] = "features"
META_INPUT: Final[str] = "base_predictions"
META_OUTPUT: Final[str] = "prediction"


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
    """The linear meta model as a plain Mul → ReduceSum → Add graph over the base models' predictions.

    skl2onnx's LinearRegressor runs one row through another kernel than a batch (GEMV, not GEMM) and its
    float32 rounding differs; MatMul and Gemm fuse multiply-adds in kernels that ONNX Runtime picks by
    shape. Here every op rounds each element alike for any N, and a sum of two terms (the two base
    models) does not depend on its order, so a row predicts the same alone as inside any batch.
    """
    coefficients = np.asarray(model.coef_, dtype=np.float32).reshape(1, width)
    intercept = np.asarray(model.intercept_, dtype=np.float32).reshape(1, 1)
    graph = helper.make_graph(
        [
            helper.make_node("Mul", [META_INPUT, "coefficients"], ["terms"]),
            helper.make_node("ReduceSum", ["terms", "sum_axis"], ["weighted_sum"], keepdims=1),
            helper.make_node("Add", ["weighted_sum", "intercept"], [META_OUTPUT]),
        ],
        "meta",
        [helper.make_tensor_value_info(META_INPUT, TensorProto.FLOAT, [None, width])],
        [helper.make_tensor_value_info(META_OUTPUT, TensorProto.FLOAT, [None, 1])],
        [
            numpy_helper.from_array(coefficients, "coefficients"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "sum_axis"),
            numpy_helper.from_array(intercept, "intercept"),
        ],
    )
    return _serialise(helper.make_model(graph, opset_imports=[helper.make_opsetid("", TARGET_OPSET)]))


def _serialise(proto: onnx.ModelProto) -> bytes:
    """Pin the IR version for older runtimes, check the graph and return its bytes."""
    proto.ir_version = IR_VERSION
    onnx.checker.check_model(proto)
    data: bytes = proto.SerializeToString()
    return data
