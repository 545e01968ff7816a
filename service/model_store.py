"""Find, verify and load the model set: external volume → MODEL_PATH → embedded, decided once."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from service.features import FEATURE_ENGINEERING_VERSION, FEATURE_NAMES
from service.predictor import ModelCheckError, OnnxModel, Predictor
from service.settings import MODEL_TYPES, Settings

logger = logging.getLogger(__name__)

METADATA_FILES: Final[dict[str, str]] = {
    "lightgbm": "lightgbm.json",
    "lightgbm_ensemble": "lightgbm_ensemble/metadata.json",
}
REQUIRED_KEYS: Final[tuple[str, ...]] = (
    "schema_version",
    "model_type",
    "model_version",
    "created_at",
    "feature_engineering_version",
    "input",
    "output",
    "files",
    "model_file",
    "stacking",
)
SCHEMA_VERSION: Final[int] = 1

ModelSource = Literal["external", "env", "embedded"]


class InvalidModelSetError(Exception):
    """A model directory exists but its model set must not serve; the message says why."""


class NoValidModelError(RuntimeError):
    """No candidate directory holds a valid model set: the process must not start."""


@dataclass(frozen=True)
class ModelSet:
    """A verified, loaded model set ready to predict."""

    model_type: str
    model_version: str
    directory: Path
    metadata: dict[str, Any]
    predictor: Predictor


@dataclass(frozen=True)
class ModelSetInfo:
    """A model set found on disk: where, whether it serves, and its metadata."""

    model_type: str
    source: ModelSource
    path: str
    active: bool
    metadata: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class LoadedModel:
    """The model set that serves, where it came from and why earlier candidates were skipped."""

    model_set: ModelSet
    source: ModelSource
    fallback_reason: str | None


def metadata_path(directory: Path, model_type: str) -> Path:
    """Where the metadata of `model_type` lives inside a model directory."""
    return directory / METADATA_FILES[model_type]


def load_model_set(directory: Path, model_type: str) -> ModelSet:
    """Verify metadata and checksums, load the sessions and run a probe; raise InvalidModelSetError."""
    meta_file = metadata_path(directory, model_type)
    metadata = _read_metadata(meta_file)
    _check_metadata(metadata, model_type)
    base_dir = meta_file.parent
    stacking = metadata["stacking"]
    if stacking is None:
        base_files, meta_file_name = [metadata["model_file"]], None
    else:
        base_files, meta_file_name = list(stacking["base_models"]), stacking["meta_model"]
    checksums = metadata["files"]
    base = [_onnx_model(base_dir, name, checksums, len(FEATURE_NAMES)) for name in base_files]
    meta = None if meta_file_name is None else _onnx_model(base_dir, meta_file_name, checksums, len(base))
    predictor = Predictor(base, meta)
    try:
        predictor.probe()
    except Exception as exc:  # ONNX Runtime raises its own Exception subclasses; any failure disqualifies
        raise InvalidModelSetError(f"probe prediction failed: {_one_line(exc)}") from exc
    return ModelSet(model_type, metadata["model_version"], directory, metadata, predictor)


def resolve(settings: Settings) -> LoadedModel:
    """Pick the first valid directory in order external → MODEL_PATH → embedded and log the choice."""
    problems: list[str] = []
    for source, directory in _candidates(settings, problems):
        try:
            model_set = load_model_set(directory, settings.model_type)
        except InvalidModelSetError as exc:
            problems.append(f"{source} model directory {directory} is invalid: {exc}")
            logger.warning("not using %s model directory %s: %s", source, directory, exc)
            continue
        loaded = LoadedModel(model_set, source, "; ".join(problems) or None)
        logger.info(
            "serving model_type=%s model_version=%s source=%s path=%s fallback_reason=%s",
            model_set.model_type,
            model_set.model_version,
            source,
            directory,
            loaded.fallback_reason,
        )
        return loaded
    raise NoValidModelError(f"no valid {settings.model_type} model set anywhere: " + "; ".join(problems))


def list_model_sets(loaded: LoadedModel, settings: Settings) -> list[ModelSetInfo]:
    """Every model set whose metadata is in the chosen or the embedded directory, for the models route."""
    directories: dict[Path, ModelSource] = {loaded.model_set.directory: loaded.source}
    directories.setdefault(settings.embedded_model_path, "embedded")
    found = []
    for directory, source in directories.items():
        for model_type in MODEL_TYPES:
            meta_file = metadata_path(directory, model_type)
            if not meta_file.exists():
                continue
            try:
                metadata, error = _read_metadata(meta_file), None
            except InvalidModelSetError as exc:
                metadata, error = None, str(exc)
            active = directory == loaded.model_set.directory and model_type == loaded.model_set.model_type
            found.append(
                ModelSetInfo(
                    model_type=model_type,
                    source=source,
                    path=str(meta_file),
                    active=active,
                    metadata=metadata,
                    error=error,
                )
            )
    return found


def _candidates(settings: Settings, problems: list[str]) -> list[tuple[ModelSource, Path]]:
    """Directories to try in order; a requested directory that is missing becomes a problem."""
    candidates: list[tuple[ModelSource, Path]] = []
    external = settings.external_model_path
    if _holds_files(external):
        candidates.append(("external", external))
    env = settings.model_path
    if env is not None and env.resolve() != settings.embedded_model_path.resolve():
        if env.is_dir():
            candidates.append(("env", env))
        else:
            problems.append(f"MODEL_PATH {env} is not a directory")
    candidates.append(("embedded", settings.embedded_model_path))
    return candidates


def _holds_files(directory: Path) -> bool:
    """True when `directory` exists with anything in it: an empty mount point offers no model."""
    try:
        return any(directory.iterdir())
    except FileNotFoundError:
        return False
    except OSError:
        return True  # present but unreadable: try it, so the reason is reported


def _read_metadata(meta_file: Path) -> dict[str, Any]:
    """Parse a metadata file into a dict, turning every failure into a readable reason."""
    try:
        metadata = json.loads(meta_file.read_bytes())
    except FileNotFoundError:
        raise InvalidModelSetError(f"missing metadata file {meta_file.name}") from None
    except OSError as exc:
        raise InvalidModelSetError(f"cannot read {meta_file.name}: {exc.strerror}") from None
    except ValueError as exc:
        raise InvalidModelSetError(f"{meta_file.name} is not valid JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise InvalidModelSetError(f"{meta_file.name} does not hold a JSON object")
    return metadata


def _check_metadata(metadata: dict[str, Any], model_type: str) -> None:
    """Require the contract's keys and values that decide whether this set fits this service."""
    missing = [key for key in REQUIRED_KEYS if key not in metadata]
    if missing:
        raise InvalidModelSetError(f"metadata lacks keys: {', '.join(missing)}")
    expected = {
        "schema_version": SCHEMA_VERSION,
        "model_type": model_type,
        "feature_engineering_version": FEATURE_ENGINEERING_VERSION,
    }
    for key, value in expected.items():
        if metadata[key] != value:
            raise InvalidModelSetError(f"metadata {key} is {metadata[key]!r}, this service needs {value!r}")
    if not isinstance(metadata["model_version"], str) or not isinstance(metadata["files"], dict):
        raise InvalidModelSetError("metadata model_version must be a string and files an object")
    features = metadata["input"].get("features") if isinstance(metadata["input"], dict) else None
    names = [f.get("name") for f in features] if isinstance(features, list) else None
    if names != list(FEATURE_NAMES):
        raise InvalidModelSetError(
            f"metadata input features {names} differ from the service's {list(FEATURE_NAMES)}"
        )
    stacking = metadata["stacking"]
    if stacking is None:
        if not isinstance(metadata["model_file"], str):
            raise InvalidModelSetError("metadata model_file must name the ONNX file of a single model set")
    elif not (
        isinstance(stacking, dict)
        and isinstance(stacking.get("base_models"), list)
        and stacking["base_models"]
        and all(isinstance(name, str) for name in stacking["base_models"])
        and isinstance(stacking.get("meta_model"), str)
    ):
        raise InvalidModelSetError("metadata stacking needs base_models (a list of files) and meta_model")


def _onnx_model(base_dir: Path, name: str, checksums: dict[str, Any], width: int) -> OnnxModel:
    """Load one verified ONNX file of the set as a session that takes (N, width) float32."""
    content = _read_verified(base_dir, name, checksums)
    try:
        return OnnxModel(name, content, width)
    except ModelCheckError as exc:
        raise InvalidModelSetError(str(exc)) from None
    except Exception as exc:  # ONNX Runtime raises its own Exception subclasses; any failure disqualifies
        raise InvalidModelSetError(f"{name} does not load: {_one_line(exc)}") from exc


def _read_verified(base_dir: Path, name: str, checksums: dict[str, Any]) -> bytes:
    """Read one ONNX file of the set and prove it is the file the metadata names."""
    if name not in checksums:
        raise InvalidModelSetError(f"metadata files has no sha256 for {name}")
    path = base_dir / name
    if not path.resolve().is_relative_to(base_dir.resolve()):
        raise InvalidModelSetError(f"{name} points outside the model directory")
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise InvalidModelSetError(f"missing model file {name}") from None
    except OSError as exc:
        raise InvalidModelSetError(f"cannot read {name}: {exc.strerror}") from None
    digest = hashlib.sha256(content).hexdigest()
    if digest != checksums[name]:
        raise InvalidModelSetError(
            f"{name} sha256 {digest[:12]}… does not match metadata {str(checksums[name])[:12]}…"
        )
    return content


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an error message, shortened, so reasons stay readable in logs and /health."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
