"""Model resolution on the real model sets: every branch, broken copies of models/onnx included."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.model_store import InvalidModelSetError, NoValidModelError, load_model_set, resolve
from service.settings import Settings

ENSEMBLE_META = "lightgbm_ensemble/metadata.json"
CATBOOST_FILE = "lightgbm_ensemble/lightgbm_base_catboost.onnx"


def settings_for(embedded: Path, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings serving `embedded`, with no external mount unless the test passes one."""
    values: dict[str, Any] = {"external_model_path": tmp_path / "no-mount", **overrides}
    return Settings(embedded_model_path=embedded, **values)


def edit_metadata(directory: Path, change: Callable[[dict[str, Any]], object]) -> None:
    """Rewrite the ensemble's metadata.json after `change` edits it in place."""
    path = directory / ENSEMBLE_META
    metadata = json.loads(path.read_text())
    change(metadata)
    path.write_text(json.dumps(metadata))


def truncate_and_rehash(directory: Path) -> None:
    """Cut the CatBoost file in half and record its new sha256, so only loading it can fail."""
    path = directory / CATBOOST_FILE
    content = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    edit_metadata(directory, lambda m: m["files"].__setitem__(Path(CATBOOST_FILE).name, digest))


def remove_model_file(directory: Path) -> None:
    (directory / CATBOOST_FILE).unlink()


def flip_one_byte(directory: Path) -> None:
    path = directory / CATBOOST_FILE
    content = bytearray(path.read_bytes())
    content[-1] ^= 0xFF
    path.write_bytes(bytes(content))


def drop_metadata_keys(directory: Path) -> None:
    edit_metadata(directory, lambda m: [m.pop(key) for key in ("files", "stacking")])


def make_model_file_unreadable(directory: Path) -> None:
    """A directory where the file should be: unreadable even for root, unlike chmod 000."""
    path = directory / CATBOOST_FILE
    path.unlink()
    path.mkdir()


def break_metadata_json(directory: Path) -> None:
    (directory / ENSEMBLE_META).write_text('{"model_type": "lightgbm_ensemble",')


def remove_metadata(directory: Path) -> None:
    (directory / ENSEMBLE_META).unlink()


def change_feature_engineering_version(directory: Path) -> None:
    edit_metadata(directory, lambda m: m.__setitem__("feature_engineering_version", "0"))


BREAKAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing-file": (remove_model_file, "missing model file lightgbm_base_catboost.onnx"),
    "truncated-onnx": (truncate_and_rehash, "lightgbm_base_catboost.onnx does not load"),
    "wrong-checksum": (flip_one_byte, "lightgbm_base_catboost.onnx sha256"),
    "metadata-missing-keys": (drop_metadata_keys, "metadata lacks keys: files, stacking"),
    "unreadable-file": (make_model_file_unreadable, "cannot read lightgbm_base_catboost.onnx"),
    "metadata-not-json": (break_metadata_json, "metadata.json is not valid JSON"),
    "metadata-missing": (remove_metadata, "missing metadata file metadata.json"),
    "other-feature-version": (change_feature_engineering_version, "feature_engineering_version"),
}


def test_valid_external_directory_serves_as_external(
    models_dir: Path, model_copy: Path, tmp_path: Path
) -> None:
    loaded = resolve(settings_for(models_dir, tmp_path, external_model_path=model_copy))

    assert loaded.source == "external"
    assert loaded.model_set.directory == model_copy
    assert loaded.fallback_reason is None


def test_empty_external_mount_point_is_ignored(models_dir: Path, tmp_path: Path) -> None:
    mount = tmp_path / "external"
    mount.mkdir()

    loaded = resolve(settings_for(models_dir, tmp_path, external_model_path=mount))

    assert loaded.source == "embedded"
    assert loaded.fallback_reason is None


def test_valid_model_path_serves_as_env(models_dir: Path, model_copy: Path, tmp_path: Path) -> None:
    loaded = resolve(settings_for(models_dir, tmp_path, model_path=model_copy))

    assert loaded.source == "env"
    assert loaded.model_set.directory == model_copy
    assert loaded.fallback_reason is None


def test_model_path_equal_to_the_embedded_directory_serves_as_embedded(
    models_dir: Path, tmp_path: Path
) -> None:
    loaded = resolve(settings_for(models_dir, tmp_path, model_path=models_dir))

    assert loaded.source == "embedded"
    assert loaded.fallback_reason is None


def test_external_wins_over_model_path(models_dir: Path, model_copy: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(models_dir, other)

    loaded = resolve(settings_for(models_dir, tmp_path, external_model_path=model_copy, model_path=other))

    assert loaded.source == "external"


def test_missing_model_path_falls_back_with_a_reason(models_dir: Path, tmp_path: Path) -> None:
    loaded = resolve(settings_for(models_dir, tmp_path, model_path=tmp_path / "absent"))

    assert loaded.source == "embedded"
    assert loaded.fallback_reason == f"MODEL_PATH {tmp_path / 'absent'} is not a directory"


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_broken_external_directory_falls_back_to_embedded_with_the_reason(
    models_dir: Path, model_copy: Path, tmp_path: Path, breakage: str, caplog: pytest.LogCaptureFixture
) -> None:
    break_it, reason = BREAKAGES[breakage]
    break_it(model_copy)

    with caplog.at_level(logging.INFO, logger="service.model_store"):
        loaded = resolve(settings_for(models_dir, tmp_path, external_model_path=model_copy))

    assert loaded.source == "embedded"
    assert loaded.model_set.directory == models_dir
    assert loaded.fallback_reason is not None
    assert loaded.fallback_reason.startswith(f"external model directory {model_copy} is invalid: ")
    assert reason in loaded.fallback_reason
    assert "source=embedded" in caplog.text


def test_broken_model_path_falls_back_to_embedded(models_dir: Path, model_copy: Path, tmp_path: Path) -> None:
    flip_one_byte(model_copy)

    loaded = resolve(settings_for(models_dir, tmp_path, model_path=model_copy))

    assert loaded.source == "embedded"
    assert loaded.fallback_reason is not None
    assert loaded.fallback_reason.startswith(f"env model directory {model_copy} is invalid: ")


def test_broken_external_falls_back_to_a_valid_model_path(
    models_dir: Path, model_copy: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    shutil.copytree(models_dir, other)
    remove_metadata(model_copy)

    loaded = resolve(settings_for(models_dir, tmp_path, external_model_path=model_copy, model_path=other))

    assert loaded.source == "env"
    assert loaded.fallback_reason is not None
    assert "external model directory" in loaded.fallback_reason


def test_nothing_valid_anywhere_raises(model_copy: Path, tmp_path: Path) -> None:
    flip_one_byte(model_copy)
    external = tmp_path / "external"
    external.mkdir()
    (external / "notes.txt").write_text("not a model")

    with pytest.raises(NoValidModelError) as raised:
        resolve(settings_for(model_copy, tmp_path, external_model_path=external))

    message = str(raised.value)
    assert message.startswith("no valid lightgbm_ensemble model set anywhere: ")
    assert "external model directory" in message
    assert "embedded model directory" in message


def test_missing_embedded_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(NoValidModelError, match="missing metadata file"):
        resolve(settings_for(tmp_path / "absent", tmp_path))


def test_model_type_lightgbm_loads_the_single_model(models_dir: Path, tmp_path: Path) -> None:
    loaded = resolve(settings_for(models_dir, tmp_path, model_type="lightgbm"))

    assert loaded.source == "embedded"
    assert loaded.model_set.model_type == "lightgbm"
    assert loaded.model_set.metadata["stacking"] is None
    assert loaded.model_set.predictor.probe() > 0


def test_lightgbm_set_ignores_a_broken_ensemble(model_copy: Path) -> None:
    flip_one_byte(model_copy)

    model_set = load_model_set(model_copy, "lightgbm")

    assert model_set.model_type == "lightgbm"


def test_metadata_of_the_other_type_is_rejected(model_copy: Path) -> None:
    shutil.copy(model_copy / "lightgbm.json", model_copy / ENSEMBLE_META)

    with pytest.raises(InvalidModelSetError, match="model_type is 'lightgbm'"):
        load_model_set(model_copy, "lightgbm_ensemble")
