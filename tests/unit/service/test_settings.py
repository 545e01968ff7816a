"""Settings read from an environment mapping: defaults, overrides and clear rejections."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import Settings, SettingsError


def test_empty_environment_gives_the_image_defaults() -> None:
    settings = Settings.from_env({})

    assert settings == Settings()
    assert settings.model_type == "lightgbm_ensemble"
    assert settings.model_path is None
    assert settings.embedded_model_path == Path("/app/models/onnx")
    assert settings.external_model_path == Path("/app/models/external")
    assert (settings.port, settings.web_concurrency, settings.max_batch) == (8000, 2, 1000)


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "MODEL_TYPE": "lightgbm",
            "MODEL_PATH": "/models",
            "EXTERNAL_MODEL_PATH": "/mnt/ext",
            "EMBEDDED_MODEL_PATH": "/srv/onnx",
            "LOG_LEVEL": "debug",
            "PORT": "9000",
            "WEB_CONCURRENCY": "4",
            "WORKER_CONNECTIONS": "16",
            "MAX_BODY_BYTES": "2048",
            "MAX_BATCH": "10",
        }
    )

    assert settings == Settings(
        model_type="lightgbm",
        model_path=Path("/models"),
        external_model_path=Path("/mnt/ext"),
        embedded_model_path=Path("/srv/onnx"),
        log_level="DEBUG",
        port=9000,
        web_concurrency=4,
        worker_connections=16,
        max_body_bytes=2048,
        max_batch=10,
    )


def test_empty_values_fall_back_to_defaults() -> None:
    settings = Settings.from_env({"MODEL_PATH": "", "PORT": " ", "WEB_CONCURRENCY": ""})

    assert (settings.model_path, settings.port, settings.web_concurrency) == (None, 8000, 2)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MODEL_TYPE": "xgboost"}, "MODEL_TYPE='xgboost': expected one of lightgbm, lightgbm_ensemble"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL='LOUD': expected one of"),
        ({"PORT": "http"}, "PORT='http': expected a whole number"),
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY='0': expected a number >= 1"),
        ({"MAX_BATCH": "-5"}, "MAX_BATCH='-5': expected a number >= 1"),
        ({"MAX_BODY_BYTES": "1.5"}, "MAX_BODY_BYTES='1.5': expected a whole number"),
    ],
)
def test_bad_values_are_rejected_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)

    assert str(raised.value).startswith(message)
