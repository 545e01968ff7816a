"""Broken model sets the resolution tests leave out: another input width, every breakage under MODEL_PATH,
and what a client sees (/health, predictions) when the app falls back.

test_model_store.py breaks the external directory in every way and MODEL_PATH by a wrong checksum; its
breakages are reused here rather than written twice.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from fastapi.testclient import TestClient
from onnx import TensorProto, helper, numpy_helper

from service.app import create_app
from service.features import FEATURE_NAMES
from service.model_store import resolve
from tests.example_request import EXAMPLE
from tests.unit.service.test_model_store import BREAKAGES, ENSEMBLE_META, edit_metadata, settings_for

LIGHTGBM_BASE = "lightgbm_ensemble/lightgbm_base_lightgbm.onnx"


def linear_onnx(width: int) -> bytes:
    """A valid ONNX regressor taking float32 (N, width): the sum of the inputs, one value per row."""
    weights = numpy_helper.from_array(np.ones((width, 1), dtype=np.float32), name="weights")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "weights"], ["variable"])],
        "other_width",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, width])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        initializer=[weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def replace_with_other_width(directory: Path) -> None:
    """Swap the LightGBM base model for a valid ONNX one column wider, its sha256 recorded in the metadata.

    Only the width can then disqualify the set: the checksum matches and the file loads.
    """
    content = linear_onnx(len(FEATURE_NAMES) + 1)
    (directory / LIGHTGBM_BASE).write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    edit_metadata(directory, lambda m: m["files"].__setitem__(Path(LIGHTGBM_BASE).name, digest))


WIDTH_REASON = f"input shape [None, {len(FEATURE_NAMES) + 1}], expected [N, {len(FEATURE_NAMES)}]"


@pytest.mark.parametrize("setting", ["external_model_path", "model_path"])
def test_model_of_another_input_width_falls_back_naming_the_shape(
    models_dir: Path, model_copy: Path, tmp_path: Path, setting: str
) -> None:
    replace_with_other_width(model_copy)

    loaded = resolve(settings_for(models_dir, tmp_path, **{setting: model_copy}))

    assert loaded.source == "embedded"
    assert loaded.fallback_reason is not None
    assert "lightgbm_base_lightgbm.onnx" in loaded.fallback_reason
    assert WIDTH_REASON in loaded.fallback_reason


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_broken_model_path_falls_back_to_embedded_with_the_reason(
    models_dir: Path, model_copy: Path, tmp_path: Path, breakage: str
) -> None:
    break_it, reason = BREAKAGES[breakage]
    break_it(model_copy)

    loaded = resolve(settings_for(models_dir, tmp_path, model_path=model_copy))

    assert loaded.source == "embedded"
    assert loaded.model_set.directory == models_dir
    assert loaded.fallback_reason is not None
    assert loaded.fallback_reason.startswith(f"env model directory {model_copy} is invalid: ")
    assert reason in loaded.fallback_reason


def test_broken_external_and_model_path_both_named_in_the_reason(
    models_dir: Path, model_copy: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    replace_with_other_width(model_copy)

    loaded = resolve(settings_for(models_dir, tmp_path, external_model_path=model_copy, model_path=other))

    assert loaded.source == "embedded"
    reason = loaded.fallback_reason or ""
    assert reason.startswith(f"external model directory {model_copy} is invalid: ")
    assert f"; env model directory {other} is invalid: missing metadata file metadata.json" in reason


@pytest.mark.parametrize("breakage", ["truncated-onnx", "wrong-checksum", "metadata-missing-keys"])
def test_app_on_a_broken_external_set_reports_it_and_predicts_with_the_embedded_one(
    models_dir: Path, model_copy: Path, tmp_path: Path, breakage: str
) -> None:
    edit_metadata(model_copy, lambda m: m.__setitem__("model_version", "broken-set"))
    break_it, reason = BREAKAGES[breakage]
    break_it(model_copy)
    embedded_version = json.loads((models_dir / ENSEMBLE_META).read_text())["model_version"]
    app = create_app(settings_for(models_dir, tmp_path, external_model_path=model_copy))

    with TestClient(app) as client:
        health = client.get("/health").json()
        prediction = client.post("/predict_onnx", json=EXAMPLE).json()
        models = client.get("/predict_onnx/models").json()

    assert health["status"] == "healthy"
    assert health["model_source"] == "embedded"
    assert reason in health["fallback_reason"]
    assert prediction["model_version"] == health["model_version"] == embedded_version != "broken-set"
    assert models["active_source"] == "embedded"
