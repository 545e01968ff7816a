"""API contract and validation on the real app with the real ONNX models."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.features import active_energy
from service.settings import MODEL_TYPES, Settings
from tests.example_request import EXAMPLE, varied_requests


@pytest.fixture(scope="module")
def settings(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Serve the embedded models; the external mount point does not exist."""
    return Settings(
        embedded_model_path=models_dir,
        external_model_path=tmp_path_factory.mktemp("mount") / "external",
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    """One app for the module: building it loads the ONNX sessions once."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def with_field(name: str, value: Any) -> dict[str, Any]:
    """The example request with one field replaced."""
    return {**EXAMPLE, name: value}


def error_fields(response: Any) -> list[str]:
    """The names of the fields a 422 blames (the last element of each error location)."""
    return [str(error["loc"][-1]) for error in response.json()["detail"]]


def test_example_request_predicts_the_energy_its_readings_imply(client: TestClient) -> None:
    response = client.post("/predict_onnx", json=EXAMPLE)

    assert response.status_code == 200
    body = response.json()
    implied = float(active_energy(np.array([23.45]), np.array([0.78]))[0])
    assert body["predicted_usage_kwh"] == pytest.approx(implied, rel=0.1)
    assert body["model_type"] == "lightgbm_ensemble"
    assert body["model_version"]


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_each_model_type_serves_the_example(settings: Settings, model_type: str) -> None:
    app = create_app(Settings(**{**settings.__dict__, "model_type": model_type}))
    with TestClient(app) as test_client:
        body = test_client.post("/predict_onnx", json=EXAMPLE).json()
        health = test_client.get("/health").json()

    assert body["model_type"] == health["model_type"] == model_type
    assert math.isfinite(body["predicted_usage_kwh"])


@pytest.mark.parametrize("field", list(EXAMPLE))
def test_missing_field_is_422_naming_it(client: TestClient, field: str) -> None:
    request = {name: value for name, value in EXAMPLE.items() if name != field}

    response = client.post("/predict_onnx", json=request)

    assert response.status_code == 422
    assert error_fields(response) == [field]


def test_extra_field_is_rejected(client: TestClient) -> None:
    response = client.post("/predict_onnx", json=with_field("usage_kwh", 3.1))

    assert response.status_code == 422
    assert error_fields(response) == ["usage_kwh"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e309", "-1e309"])
def test_non_finite_numbers_are_422(client: TestClient, literal: str) -> None:
    text = json.dumps(EXAMPLE).replace('"co2": 0.02', f'"co2": {literal}')
    assert literal in text

    response = client.post("/predict_onnx", content=text, headers={"content-type": "application/json"})

    assert response.status_code == 422
    assert error_fields(response) == ["co2"]


@pytest.mark.parametrize("field", ["lagging_reactive_power", "leading_reactive_power", "co2"])
def test_huge_finite_values_are_422_naming_the_field(client: TestClient, field: str) -> None:
    response = client.post("/predict_onnx", json=with_field(field, 1e300))

    assert response.status_code == 422
    assert error_fields(response) == [field]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("co2", "0.02"),
        ("co2", None),
        ("co2", True),
        ("co2", [0.02]),
        ("nsm", 36000.5),
        ("nsm", "36000"),
        ("day_of_week", True),
        ("load_type", 1),
    ],
)
def test_wrong_type_is_422_naming_the_field(client: TestClient, field: str, value: Any) -> None:
    response = client.post("/predict_onnx", json=with_field(field, value))

    assert response.status_code == 422
    assert field in error_fields(response)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lagging_reactive_power", -0.01),
        ("leading_reactive_power", -1.0),
        ("co2", -0.01),
        ("lagging_power_factor", -0.1),
        ("nsm", -1),
        ("nsm", 86400),
        ("day_of_week", -1),
        ("day_of_week", 7),
        ("load_type", "Heavy"),
        ("load_type", "medium"),
    ],
)
def test_out_of_range_is_422_naming_the_field(client: TestClient, field: str, value: Any) -> None:
    response = client.post("/predict_onnx", json=with_field(field, value))

    assert response.status_code == 422
    assert error_fields(response) == [field]


@pytest.mark.parametrize("field", ["lagging_power_factor", "leading_power_factor"])
def test_power_factor_above_one_asks_about_percent(client: TestClient, field: str) -> None:
    response = client.post("/predict_onnx", json=with_field(field, 78.0))

    assert response.status_code == 422
    assert error_fields(response) == [field]
    assert "percent" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(("field", "value"), [("nsm", 0), ("nsm", 86399), ("day_of_week", 0), ("day_of_week", 6)])
def test_range_edges_are_accepted(client: TestClient, field: str, value: int) -> None:
    assert client.post("/predict_onnx", json=with_field(field, value)).status_code == 200


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ('{"co2": 0.02,', "application/json"),
        ("not json", "application/json"),
        ("", "application/json"),
        ("[]", "application/json"),
        (json.dumps(EXAMPLE), "text/plain"),
        ("lagging_reactive_power=23.45", "application/x-www-form-urlencoded"),
    ],
    ids=["truncated", "not-json", "empty", "array", "text-plain", "form"],
)
def test_malformed_bodies_are_4xx_and_the_service_stays_healthy(
    client: TestClient, content: str, content_type: str
) -> None:
    response = client.post("/predict_onnx", content=content, headers={"content-type": content_type})

    assert 400 <= response.status_code < 500
    assert client.get("/health").json()["status"] == "healthy"


def test_body_above_the_limit_is_413(client: TestClient, settings: Settings) -> None:
    padding = " " * settings.max_body_bytes
    text = json.dumps(EXAMPLE)[:-1] + padding + "}"

    response = client.post("/predict_onnx", content=text, headers={"content-type": "application/json"})

    assert response.status_code == 413


def test_streamed_body_above_the_limit_is_413(client: TestClient, settings: Settings) -> None:
    chunk = b" " * 65536
    chunks = settings.max_body_bytes // len(chunk) + 1

    def body() -> Iterator[bytes]:
        """A chunked body with no Content-Length, so only counting the bytes can stop it."""
        yield json.dumps(EXAMPLE)[:-1].encode()
        for _ in range(chunks):
            yield chunk
        yield b"}"

    response = client.post("/predict_onnx", content=body(), headers={"content-type": "application/json"})

    assert response.status_code == 413


def test_body_just_under_the_limit_is_served(client: TestClient, settings: Settings) -> None:
    text = json.dumps(EXAMPLE)
    text = text[:-1] + " " * (settings.max_body_bytes - len(text)) + "}"
    assert len(text.encode()) == settings.max_body_bytes

    response = client.post("/predict_onnx", content=text, headers={"content-type": "application/json"})

    assert response.status_code == 200


def test_batch_equals_single_calls_in_order(client: TestClient) -> None:
    requests = varied_requests(200)

    batch = client.post("/predict_onnx/batch", json={"predictions": requests})
    singles = [client.post("/predict_onnx", json=r).json()["predicted_usage_kwh"] for r in requests]

    assert batch.status_code == 200
    body = batch.json()
    assert [item["predicted_usage_kwh"] for item in body["predictions"]] == singles
    assert len(set(singles)) > 100
    assert body["model_type"] == "lightgbm_ensemble"


def test_batch_of_the_maximum_size_is_served(client: TestClient, settings: Settings) -> None:
    response = client.post("/predict_onnx/batch", json={"predictions": [EXAMPLE] * settings.max_batch})

    assert response.status_code == 200
    assert len(response.json()["predictions"]) == settings.max_batch


def test_batch_above_the_maximum_is_422_saying_the_limit(client: TestClient, settings: Settings) -> None:
    response = client.post("/predict_onnx/batch", json={"predictions": [EXAMPLE] * (settings.max_batch + 1)})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"][-1] == "predictions"
    assert str(settings.max_batch) in error["msg"]


@pytest.mark.parametrize(
    "body",
    [{"predictions": []}, {"predictions": EXAMPLE}, {}, {"predictions": [EXAMPLE], "extra": 1}],
    ids=["empty", "not-a-list", "missing", "extra-field"],
)
def test_malformed_batch_is_422(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post("/predict_onnx/batch", json=body).status_code == 422


def test_bad_item_in_batch_is_422_naming_its_index_and_field(client: TestClient) -> None:
    requests = [EXAMPLE, with_field("nsm", 86400), EXAMPLE]

    response = client.post("/predict_onnx/batch", json={"predictions": requests})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"][-2:] == [1, "nsm"]


def test_health_reports_the_embedded_model(client: TestClient, models_dir: Path) -> None:
    metadata = json.loads((models_dir / "lightgbm_ensemble" / "metadata.json").read_text())
    serving_since = client.app.state.serving.started  # type: ignore[attr-defined]

    before = time.monotonic()
    response = client.get("/health")
    after = time.monotonic()

    assert response.status_code == 200
    body = response.json()
    uptime = body.pop("uptime_seconds")
    assert body == {
        "status": "healthy",
        "model_loaded": True,
        "model_type": "lightgbm_ensemble",
        "model_version": metadata["model_version"],
        "model_source": "embedded",
        "model_path": str(models_dir),
        "fallback_reason": None,
    }
    # Counted from when the lifespan loaded the model set, rounded to milliseconds.
    assert round(before - serving_since, 3) <= uptime <= round(after - serving_since, 3)


def test_models_route_lists_both_sets_and_marks_the_active_one(client: TestClient) -> None:
    response = client.get("/predict_onnx/models")

    assert response.status_code == 200
    body = response.json()
    assert body["active_model_type"] == "lightgbm_ensemble"
    assert body["active_source"] == "embedded"
    by_type = {item["model_type"]: item for item in body["model_sets"]}
    assert set(by_type) == set(MODEL_TYPES)
    assert [t for t, item in by_type.items() if item["active"]] == ["lightgbm_ensemble"]
    for model_type, item in by_type.items():
        assert item["error"] is None
        assert item["metadata"]["model_type"] == model_type


def test_unknown_route_and_wrong_method_are_4xx(client: TestClient) -> None:
    assert client.get("/predict_onnx").status_code == 405
    assert client.post("/nope", json=EXAMPLE).status_code == 404
