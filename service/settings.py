"""One typed settings object, read from the environment once at start and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

MODEL_TYPES: Final[tuple[str, ...]] = ("lightgbm", "lightgbm_ensemble")
LOG_LEVELS: Final[tuple[str, ...]] = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
LOG_FORMAT: Final[str] = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    model_type: str = "lightgbm_ensemble"
    model_path: Path | None = None
    external_model_path: Path = Path("/app/models/external")
    embedded_model_path: Path = Path("/app/models/onnx")
    log_level: str = "INFO"
    port: int = 8000
    web_concurrency: int = 2
    worker_connections: int = 1000
    max_body_bytes: int = 1024 * 1024
    max_batch: int = 1000
    mlflow_tracking_uri: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default: the process environment), rejecting bad values."""
        env = os.environ if environ is None else environ
        defaults = cls()
        model_type = env.get("MODEL_TYPE", defaults.model_type)
        if model_type not in MODEL_TYPES:
            raise SettingsError(f"MODEL_TYPE={model_type!r}: expected one of {', '.join(MODEL_TYPES)}")
        log_level = env.get("LOG_LEVEL", defaults.log_level).upper()
        if log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL={log_level!r}: expected one of {', '.join(LOG_LEVELS)}")
        model_path = env.get("MODEL_PATH")
        return cls(
            model_type=model_type,
            model_path=Path(model_path) if model_path else None,
            external_model_path=Path(env.get("EXTERNAL_MODEL_PATH", str(defaults.external_model_path))),
            embedded_model_path=Path(env.get("EMBEDDED_MODEL_PATH", str(defaults.embedded_model_path))),
            log_level=log_level,
            port=_positive_int(env, "PORT", defaults.port),
            web_concurrency=_positive_int(env, "WEB_CONCURRENCY", defaults.web_concurrency),
            worker_connections=_positive_int(env, "WORKER_CONNECTIONS", defaults.worker_connections),
            max_body_bytes=_positive_int(env, "MAX_BODY_BYTES", defaults.max_body_bytes),
            max_batch=_positive_int(env, "MAX_BATCH", defaults.max_batch),
            mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI", "").strip() or None,
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    """Read `name` as an integer ≥ 1, or return `default` when it is unset or empty."""
    raw = env.get(name, "")
    if not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
    if value < 1:
        raise SettingsError(f"{name}={raw!r}: expected a number >= 1")
    return value
