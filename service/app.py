"""FastAPI app: thin routes over the predictor; `app` is built per worker process on first import."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_json

from service.model_store import NoValidModelError, list_model_sets, resolve
from service.schemas import (
    BatchRequest,
    BatchResponse,
    HealthResponse,
    ModelsResponse,
    PredictionRequest,
    PredictionResponse,
    batch_request_model,
    raw_matrix,
)
from service.settings import Settings, SettingsError
from service.tracking import start_model_recording

logger = logging.getLogger(__name__)

# gunicorn reads exit status 3 as "worker failed to boot" and stops the whole server instead of respawning.
EXIT_NO_MODEL: Final[int] = 3
LOG_FORMAT: Final[str] = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"
JSON: Final[str] = "application/json"


def create_app(settings: Settings) -> FastAPI:
    """Resolve and load the model set, then build the routes around it; raises NoValidModelError."""
    started = time.monotonic()
    loaded = resolve(settings)
    start_model_recording(settings, loaded)
    model_set = loaded.model_set
    predictor = model_set.predictor
    model_type, model_version = model_set.model_type, model_set.model_version
    models = ModelsResponse(
        active_model_type=model_type,
        active_source=loaded.source,
        model_sets=list_model_sets(loaded, settings),
    )
    app = FastAPI(
        title="Steel plant energy-use prediction",
        version=model_version,
        max_body_size=settings.max_body_bytes,
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)

    # The prediction routes return JSON they serialise themselves (response_model keeps the schema): FastAPI
    # would validate the response model again first, which costs a 1000-row batch about two milliseconds.
    async def predict(request: PredictionRequest) -> Response:
        """Predict one 15-minute interval."""
        value = float(predictor.predict(raw_matrix((request,)))[0])
        response = PredictionResponse(
            predicted_usage_kwh=value, model_type=model_type, model_version=model_version
        )
        return Response(response.model_dump_json(), media_type=JSON)

    _add_json_body_route(app, "/predict_onnx", predict, PredictionResponse)

    async def predict_batch(batch: BatchRequest) -> Response:
        """Predict many intervals with one model call, in request order."""
        values = predictor.predict(raw_matrix(batch.predictions)).tolist()
        response = {
            "predictions": [{"predicted_usage_kwh": v} for v in values],
            "model_type": model_type,
            "model_version": model_version,
        }
        return Response(to_json(response), media_type=JSON)

    # The batch limit comes from settings, so FastAPI validates against a subclass made for it here.
    predict_batch.__annotations__["batch"] = batch_request_model(settings.max_batch)
    _add_json_body_route(app, "/predict_onnx/batch", predict_batch, BatchResponse)

    @app.get("/predict_onnx/models")
    async def list_models() -> ModelsResponse:
        """The model sets found and which one serves."""
        return models

    @app.get("/health")
    async def health() -> HealthResponse:
        """Which model serves and from where; the model answered a probe before the app existed."""
        return HealthResponse(
            status="healthy",
            model_loaded=True,
            model_type=model_type,
            model_version=model_version,
            model_source=loaded.source,
            model_path=str(model_set.directory),
            fallback_reason=loaded.fallback_reason,
            uptime_seconds=round(time.monotonic() - started, 3),
        )

    return app


class _ParsedJSONRequest(Request):
    """A request whose JSON body pydantic parses and validates in one pass, straight from the bytes."""

    def __init__(self, request: Request, body: TypeAdapter[Any]) -> None:
        super().__init__(request.scope, request.receive)
        self._body_adapter = body

    async def json(self) -> Any:
        """The validated body model; for a body it rejects, the plain parse, so FastAPI words the error."""
        try:
            return self._body_adapter.validate_json(await self.body())
        except ValidationError:
            return await super().json()


class _JSONBodyRoute(APIRoute):
    """A POST route whose JSON body skips the Python-object detour: a 1000-row batch saves about 1.4 ms.

    FastAPI still chooses by content type whether to parse, validates what `json()` returns (a model instance
    passes at once) and words every 422, so errors, the body limit and the OpenAPI schema stay as before.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        model = self.body_field.field_info.annotation if self.body_field else None
        assert model is not None, f"{self.path} takes no body"
        body = TypeAdapter(model)

        async def parse_then_handle(request: Request) -> Response:
            return await handler(_ParsedJSONRequest(request, body))

        return parse_then_handle


def _add_json_body_route(app: FastAPI, path: str, endpoint: Callable[..., Any], response_model: type) -> None:
    """Serve `endpoint` at POST `path` through _JSONBodyRoute."""
    app.router.add_api_route(
        path, endpoint, methods=["POST"], response_model=response_model, route_class_override=_JSONBodyRoute
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each field at fault, without echoing the input (it may be huge or hold NaN)."""
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]} for error in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A logged 500 with no internals in the body; the server logs the traceback as well."""
    logger.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def _serve() -> FastAPI:
    """Build the app from the environment, or exit with one clear log line when it cannot serve."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        logging.basicConfig(format=LOG_FORMAT, stream=sys.stderr)
        logger.critical("cannot start: %s", exc)
        raise SystemExit(EXIT_NO_MODEL) from None
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT, stream=sys.stderr)
    logging.getLogger("service").setLevel(settings.log_level)
    try:
        return create_app(settings)
    except NoValidModelError as exc:
        logger.critical("cannot start: %s", exc)
        raise SystemExit(EXIT_NO_MODEL) from None


def __getattr__(name: str) -> FastAPI:
    """Build `app` lazily so each server worker loads its own ONNX sessions after the fork."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    application = _serve()
    globals()["app"] = application
    return application
