"""Hostile input on the real app with the real models: schema-driven fuzzing and hand-picked attacks.

test_api.py covers the contract case by case; this module throws what a careless or hostile client sends:
schemathesis cases from the app's own OpenAPI schema (valid and invalid ones), huge and deeply nested
bodies, and a few hundred seeded random bodies, each of which must be a 4xx naming the field at fault.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import response_schema_conformance

from service.app import create_app
from service.settings import Settings
from tests.example_request import EXAMPLE
from tests.hostile_requests import bad_json_bodies, blamed_fields, garbage_bodies

FUZZ_EXAMPLES = 60
RANDOM_BODIES = 300
SEED = 20261126
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def app_settings(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The embedded models; no external mount."""
    return Settings(
        embedded_model_path=models_dir, external_model_path=tmp_path_factory.mktemp("mount") / "external"
    )


@pytest.fixture(scope="module")
def client(app_settings: Settings) -> Iterator[TestClient]:
    """One real app for the module (building it loads the ONNX sessions once)."""
    with TestClient(create_app(app_settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def operations(client: TestClient) -> list[APIOperation[Any, Any, Any, Any]]:
    """Every operation of the app's own OpenAPI schema."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    return [result.ok() for result in results if isinstance(result, Ok)]


# schemathesis's own pytest integration (from_fixture) reads a private pytest attribute that pytest 9
# removed, so hypothesis drives its case strategies directly.
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_schema_fuzzing_gets_no_5xx_and_schema_conformant_answers(
    operations: list[APIOperation[Any, Any, Any, Any]], mode: GenerationMode
) -> None:
    # An operation without parameters or body has no invalid request to generate.
    fuzzed = [op for op in operations if mode is GenerationMode.POSITIVE or op.body]
    assert {op.label for op in fuzzed} >= {"POST /predict_onnx", "POST /predict_onnx/batch"}
    for operation in fuzzed:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=FUZZ_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        call()


def assert_healthy(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"


def error_fields(response: Any) -> list[str]:
    """The names of the fields a 422 blames."""
    return blamed_fields(response.json()["detail"])


@pytest.mark.parametrize("field", ["nsm", "day_of_week", "lagging_power_factor"])
def test_overflowing_number_in_another_field_is_422_naming_it(client: TestClient, field: str) -> None:
    text = json.dumps({**EXAMPLE, field: "OVERFLOW"}).replace('"OVERFLOW"', "1e309")

    response = client.post("/predict_onnx", content=text, headers=JSON)

    assert response.status_code == 422
    assert error_fields(response) == [field]


def test_overflowing_number_inside_a_batch_names_item_and_field(client: TestClient) -> None:
    text = json.dumps({"predictions": [EXAMPLE, {**EXAMPLE, "co2": "OVERFLOW"}]}).replace(
        '"OVERFLOW"', "-1e309"
    )

    response = client.post("/predict_onnx/batch", content=text, headers=JSON)

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"][-2:] == [1, "co2"]


@pytest.mark.parametrize("depth", [50, 5_000, 200_000])
@pytest.mark.parametrize("opener", ["[", '{"co2":'])
def test_deeply_nested_json_is_4xx_and_the_service_stays_healthy(
    client: TestClient, depth: int, opener: str
) -> None:
    closer = "]" if opener == "[" else "}"
    text = opener * depth + "0" + closer * depth

    response = client.post("/predict_onnx", content=text, headers=JSON)

    assert 400 <= response.status_code < 500, response.text[:300]
    assert_healthy(client)


def test_twenty_megabyte_body_is_413_and_the_service_stays_healthy(client: TestClient) -> None:
    body = json.dumps(EXAMPLE)[:-1].encode() + b" " * (20 * 1024 * 1024) + b"}"

    response = client.post("/predict_onnx", content=body, headers=JSON)

    assert response.status_code == 413
    assert_healthy(client)


def twenty_megabyte_batch() -> bytes:
    """A well-formed batch of about 20 MB (far above the item limit too): the size must be refused first."""
    item = json.dumps(EXAMPLE).encode()
    count = 20 * 1024 * 1024 // (len(item) + 1)
    return b'{"predictions": [' + b",".join([item] * count) + b"]}"


def test_twenty_megabyte_batch_is_413(client: TestClient) -> None:
    response = client.post("/predict_onnx/batch", content=twenty_megabyte_batch(), headers=JSON)

    assert response.status_code == 413


def test_random_bad_bodies_are_4xx_naming_the_field_and_never_5xx(client: TestClient) -> None:
    wrong = []
    for text, field in bad_json_bodies(RANDOM_BODIES, SEED):
        response = client.post("/predict_onnx", content=text, headers=JSON)
        if response.status_code != 422 or blamed_fields(response.json()["detail"]) != [field]:
            wrong.append((text[:120], field, response.status_code, response.text[:200]))

    assert wrong == []
    assert_healthy(client)


def test_random_garbage_bytes_are_4xx_and_never_5xx(client: TestClient) -> None:
    statuses = [
        client.post("/predict_onnx", content=body, headers={"content-type": content_type}).status_code
        for body, content_type in garbage_bodies(RANDOM_BODIES // 3, SEED)
    ]

    assert [status for status in statuses if not 400 <= status < 500] == []
    assert_healthy(client)
