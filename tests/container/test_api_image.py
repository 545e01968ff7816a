"""The API's own checks on the image the harness builds from Dockerfile.api (configured in [tool.harness]).

Run with `pytest -m container` (or `--harness`): the plugin then adds its built-in checks, which build
energy-optimization-api:latest; the run keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from container_harness.config import HarnessConfig
from container_harness.run.container import RunningContainer
from tests.example_request import EXAMPLE

StartContainer = Callable[..., RunningContainer]

# Highest Usage_kWh in the data set is about 157 kWh per 15 minutes.
PLAUSIBLE_KWH = (0.0, 160.0)


def _health(running: RunningContainer) -> dict[str, Any]:
    answer = requests.get(running.url("/health"), timeout=10)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.container
def test_prediction_on_the_seed_example_is_plausible(running_container: RunningContainer) -> None:
    answer = requests.post(running_container.url("/predict_onnx"), json=EXAMPLE, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    low, high = PLAUSIBLE_KWH
    assert low < body["predicted_usage_kwh"] < high, body
    assert body["model_type"] == "lightgbm_ensemble"


@pytest.mark.container
def test_batch_prediction_matches_single_predictions(running_container: RunningContainer) -> None:
    light_night = {**EXAMPLE, "lagging_reactive_power": 2.95, "co2": 0.0, "nsm": 900, "load_type": "Light"}
    single = [
        requests.post(running_container.url("/predict_onnx"), json=reading, timeout=10).json()[
            "predicted_usage_kwh"
        ]
        for reading in (EXAMPLE, light_night)
    ]
    batch = requests.post(
        running_container.url("/predict_onnx/batch"), json={"predictions": [EXAMPLE, light_night]}, timeout=10
    )
    assert batch.status_code == 200, batch.text
    assert [item["predicted_usage_kwh"] for item in batch.json()["predictions"]] == single


@pytest.mark.container
def test_percent_power_factor_is_rejected_with_a_clear_422(running_container: RunningContainer) -> None:
    answer = requests.post(
        running_container.url("/predict_onnx"),
        json={**EXAMPLE, "lagging_power_factor": 78.0},
        timeout=10,
    )
    assert answer.status_code == 422
    assert "percent" in answer.text


@pytest.mark.container
def test_model_path_env_directory_is_used(
    start_container: StartContainer, harness_config: HarnessConfig
) -> None:
    models = harness_config.path("models/onnx")
    running = start_container(
        volumes={str(models): {"bind": "/srv/models", "mode": "ro"}}, env={"MODEL_PATH": "/srv/models"}
    )
    health = _health(running)
    assert health["model_source"] == "env"
    assert health["model_path"].startswith("/srv/models")
    assert health["fallback_reason"] is None


@pytest.mark.container
def test_broken_external_models_fall_back_to_embedded_with_a_reason(
    start_container: StartContainer, tmp_path: Path
) -> None:
    broken = tmp_path / "external"
    (broken / "lightgbm_ensemble").mkdir(parents=True)
    (broken / "lightgbm_ensemble" / "metadata.json").write_text("{not json")
    broken.chmod(0o755)
    running = start_container(volumes={str(broken): {"bind": "/app/models/external", "mode": "ro"}})
    health = _health(running)
    assert health["model_source"] == "embedded"
    assert health["fallback_reason"], health
