"""Broken, missing and updated model sets seen through the real container (the unit tests cover every
branch in-process; these prove the same behaviour across mounts, file ownership and the server's exit).

The image runs as uid 1000, so a root-owned file with mode 000 is unreadable inside the container even
though the (root) test process can read it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from container_harness.config import HarnessConfig
from container_harness.run.container import RunningContainer
from tests.example_request import EXAMPLE

pytestmark = pytest.mark.container
StartApi = Callable[..., RunningContainer]  # the start_api fixture (conftest.py)

EXTERNAL = "/app/models/external"
EMBEDDED = "/app/models/onnx"
ENSEMBLE_META = "lightgbm_ensemble/metadata.json"
CATBOOST = "lightgbm_ensemble/lightgbm_base_catboost.onnx"
EXIT_TIMEOUT_S = 60
RELOAD_TIMEOUT_S = 30
# Clients sending back to back on fresh connections: with uvicorn-worker's own worker, 4 of them lost a request
# in 4 of 4 reloads (1 client: in 1 of 4).
RELOAD_CLIENTS = 4


@pytest.fixture
def models(harness_config: HarnessConfig, tmp_path: Path) -> Path:
    """A copy of models/onnx the container user can read (pytest's tmp dirs are private to root)."""
    copy = tmp_path / "models"
    shutil.copytree(harness_config.path("models/onnx"), copy)
    readable(copy)
    return copy


def readable(directory: Path) -> None:
    """World-readable directories and files, so uid 1000 reads the mount."""
    directory.chmod(0o755)
    for path in directory.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def mount(host: Path, target: str) -> dict[str, dict[str, str]]:
    return {str(host): {"bind": target, "mode": "ro"}}


def edit_metadata(directory: Path, **values: Any) -> None:
    path = directory / ENSEMBLE_META
    metadata = json.loads(path.read_text())
    metadata.update(values)
    path.write_text(json.dumps(metadata))


def truncate_and_rehash(directory: Path) -> None:
    """Half the CatBoost file, its new sha256 recorded: only loading it can fail."""
    path = directory / CATBOOST
    content = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(content)
    metadata = json.loads((directory / ENSEMBLE_META).read_text())
    metadata["files"][Path(CATBOOST).name] = hashlib.sha256(content).hexdigest()
    (directory / ENSEMBLE_META).write_text(json.dumps(metadata))


def flip_last_byte(directory: Path) -> None:
    path = directory / CATBOOST
    content = bytearray(path.read_bytes())
    content[-1] ^= 0xFF
    path.write_bytes(bytes(content))


def health(running: RunningContainer) -> dict[str, Any]:
    answer = requests.get(running.url("/health"), timeout=10)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def assert_embedded_serves_because(running: RunningContainer, *reasons: str) -> None:
    body = health(running)
    assert body["status"] == "healthy"
    assert body["model_source"] == "embedded"
    assert body["model_path"] == EMBEDDED
    for reason in reasons:
        assert reason in (body["fallback_reason"] or ""), body
    prediction = requests.post(running.url("/predict_onnx"), json=EXAMPLE, timeout=10).json()
    assert prediction["model_version"] == body["model_version"]


def test_truncated_onnx_in_the_external_volume_falls_back_to_embedded(
    start_api: StartApi, models: Path
) -> None:
    truncate_and_rehash(models)

    running = start_api(volumes=mount(models, EXTERNAL))

    assert_embedded_serves_because(
        running,
        f"external model directory {EXTERNAL} is invalid",
        "lightgbm_base_catboost.onnx does not load",
    )


def test_wrong_checksum_in_a_model_path_directory_falls_back_to_embedded(
    start_api: StartApi, models: Path
) -> None:
    flip_last_byte(models)

    running = start_api(volumes=mount(models, "/srv/models"), env={"MODEL_PATH": "/srv/models"})

    assert_embedded_serves_because(
        running,
        "env model directory /srv/models is invalid",
        "lightgbm_base_catboost.onnx sha256",
        "does not match metadata",
    )


def test_model_file_unreadable_to_the_service_user_falls_back_to_embedded(
    start_api: StartApi, models: Path
) -> None:
    (models / CATBOOST).chmod(0o000)

    running = start_api(volumes=mount(models, EXTERNAL))

    assert_embedded_serves_because(running, "cannot read lightgbm_base_catboost.onnx: Permission denied")


def test_no_valid_model_anywhere_exits_non_zero_with_one_clear_line_never_healthy(
    start_api: StartApi, tmp_path: Path
) -> None:
    invalid = tmp_path / "invalid"
    invalid.mkdir()
    (invalid / "README.txt").write_text("no models here\n")
    readable(invalid)

    running = start_api(wait_ready=False, volumes=mount(invalid, EMBEDDED))
    status = running.container.wait(timeout=EXIT_TIMEOUT_S)
    running.container.reload()
    state = running.container.attrs["State"]
    logs = running.container.logs().decode("utf-8", "replace").splitlines()

    assert status["StatusCode"] != 0, logs
    assert (state.get("Health") or {}).get("Status") != "healthy"
    clear = [line for line in logs if "cannot start: no valid lightgbm_ensemble model set anywhere" in line]
    assert len(set(line.split("cannot start: ", 1)[1] for line in clear)) == 1, logs
    assert f"embedded model directory {EMBEDDED} is invalid: missing metadata file" in clear[0]
    assert not [line for line in logs if "Traceback" in line], logs


def external_volume_at(volume: Path, models: Path, version: str) -> None:
    """Replace the volume's contents with the models, relabelled `version` (the sha256s cover ONNX files only)."""
    for item in list(volume.iterdir()) if volume.exists() else []:
        shutil.rmtree(item) if item.is_dir() else item.unlink()
    shutil.copytree(models, volume, dirs_exist_ok=True)
    edit_metadata(volume, model_version=version)
    readable(volume)


@pytest.fixture
def serving_v1(start_api: StartApi, models: Path, tmp_path: Path) -> tuple[RunningContainer, Path]:
    """The API serving model version test-v1 from an external volume, and that volume's host directory."""
    volume = tmp_path / "external"
    external_volume_at(volume, models, "test-v1")
    running = start_api(volumes=mount(volume, EXTERNAL))
    assert (health(running)["model_source"], health(running)["model_version"]) == ("external", "test-v1")
    return running, volume


def assert_serves_external(running: RunningContainer, version: str) -> None:
    body = health(running)
    assert (body["model_source"], body["model_version"], body["fallback_reason"]) == ("external", version, None)
    prediction = requests.post(running.url("/predict_onnx"), json=EXAMPLE, timeout=10).json()
    assert prediction["model_version"] == version


def test_new_model_version_in_the_external_volume_serves_after_a_restart(
    serving_v1: tuple[RunningContainer, Path], models: Path
) -> None:
    running, volume = serving_v1
    external_volume_at(volume, models, "test-v2")
    running.restart(timeout_s=10)

    assert_serves_external(running, "test-v2")


def test_sighup_serves_the_new_model_version_without_a_failed_request(
    serving_v1: tuple[RunningContainer, Path], models: Path
) -> None:
    """gunicorn's HUP starts new workers, which resolve the model set again, then drains the old ones."""
    running, volume = serving_v1
    started_at = running.container.attrs["State"]["StartedAt"]
    versions: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def predict_until_stopped() -> None:
        while not stop.is_set():
            try:
                answer = requests.post(running.url("/predict_onnx"), json=EXAMPLE, timeout=10)
                answer.raise_for_status()
                versions.append(answer.json()["model_version"])
            except requests.RequestException as exc:
                failures.append(repr(exc))

    clients = [threading.Thread(target=predict_until_stopped) for _ in range(RELOAD_CLIENTS)]
    for client in clients:
        client.start()
    try:
        external_volume_at(volume, models, "test-v2")
        running.container.kill(signal="SIGHUP")
        deadline = time.monotonic() + RELOAD_TIMEOUT_S
        while (versions[-1:] != ["test-v2"] or len(versions) < 50) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # the old workers drain while requests keep coming
    finally:
        stop.set()
        for client in clients:
            client.join()

    assert failures == []
    assert versions[0] == "test-v1"
    assert set(versions[-20:]) == {"test-v2"}, f"old workers still served after the drain: {versions[-20:]}"
    assert_serves_external(running, "test-v2")
    running.container.reload()
    assert running.container.attrs["State"]["StartedAt"] == started_at, "the container restarted"
