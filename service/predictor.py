"""ONNX Runtime inference: one or stacked model sets behind one vectorised `predict` call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import onnxruntime as ort

from service.features import LOAD_TYPES, build_features

# A plausible interval (RAW_FIELDS order) used to prove a model set answers before it serves.
PROBE_RAW: Final[np.ndarray] = np.array(
    [[3.0, 0.0, 0.0, 0.8, 1.0, 36000.0, 2.0, float(LOAD_TYPES.index("Medium"))]] * 2, dtype=np.float64
)


class ModelCheckError(ValueError):
    """An ONNX model does not match the contract (inputs, width, outputs)."""


def session_options() -> ort.SessionOptions:
    """One thread per session: workers scale by processes, and threads would fight over 2 cores."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return options


class OnnxModel:
    """One ONNX session with its input and output names looked up once."""

    def __init__(self, name: str, model_bytes: bytes, width: int) -> None:
        """Load `model_bytes` and check it takes one float32 (N, width) input."""
        self.name = name
        self._session = ort.InferenceSession(
            model_bytes, sess_options=session_options(), providers=["CPUExecutionProvider"]
        )
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise ModelCheckError(f"{name}: expected 1 input, found {len(inputs)}")
        (model_input,) = inputs
        if model_input.type != "tensor(float)":
            raise ModelCheckError(
                f"{name}: input {model_input.name!r} is {model_input.type}, expected float32"
            )
        shape = model_input.shape
        if len(shape) != 2 or (isinstance(shape[1], int) and shape[1] != width):
            raise ModelCheckError(f"{name}: input shape {shape}, expected [N, {width}]")
        self._input = model_input.name
        self._outputs = [self._session.get_outputs()[0].name]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Predict one value per row of the float32 (N, width) array `x`."""
        result: np.ndarray = self._session.run(self._outputs, {self._input: x})[0]
        return result.reshape(-1)


class Predictor:
    """A single model, or base models whose predictions feed a meta model, as one predict call."""

    def __init__(self, base: Sequence[OnnxModel], meta: OnnxModel | None) -> None:
        """`meta` is None for a single model set, which then has exactly one base model."""
        if meta is None and len(base) != 1:
            raise ModelCheckError(f"a single model set needs 1 model, got {len(base)}")
        self._base = tuple(base)
        self._meta = meta

    def predict(self, raw: np.ndarray) -> np.ndarray:
        """Predicted kWh (float32, N) for raw rows in RAW_FIELDS order: one session call per model."""
        features = build_features(raw)
        if self._meta is None:
            return self._base[0](features)
        stacked = np.empty((features.shape[0], len(self._base)), dtype=np.float32)
        for column, model in enumerate(self._base):
            stacked[:, column] = model(features)
        return self._meta(stacked)

    def probe(self) -> float:
        """Predict the probe rows and prove the answer is well-formed: N values, finite, row-stable."""
        result = self.predict(PROBE_RAW)
        if result.shape != (len(PROBE_RAW),):
            raise ModelCheckError(f"probe returned shape {result.shape}, expected ({len(PROBE_RAW)},)")
        if not np.all(np.isfinite(result)) or result[0] != result[1]:
            raise ModelCheckError(f"probe returned {result.tolist()}, expected two equal finite numbers")
        return float(result[0])
