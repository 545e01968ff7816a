"""FastAPI app factory: thin routes over the predictor, the model set loaded by each worker's lifespan."""

# No `from __future__ import annotations`: the batch route's body model is made at run time (its limit comes
# from settings), and FastAPI must see that class itself as the parameter's annotation.
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_json
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.hot_path import Answer, HotPath
from service.model_store import LoadedModel, NoValidModelError, list_model_sets, resolve
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
from service.settings import Settings

logger = logging.getLogger(__name__)

JSON: Final[str] = "application/json"
PREDICT_PATH: Final[str] = "/predict_onnx"


@dataclass(frozen=True)
class _Serving:
    """What the lifespan loaded: the model set that serves, the models listing, and when it started."""

    loaded: LoadedModel
    models: ModelsResponse
    started: float


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for `settings` (default: read from the environment); its lifespan loads the model set.

    gunicorn calls this in each worker (`service.app:create_app()`), so each worker makes its own ONNX
    sessions after the fork. When no model set can serve, startup fails after one `cannot start:` log line.
    """
    settings = Settings.from_env() if settings is None else settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            loaded = resolve(settings)
        except NoValidModelError as exc:
            logger.critical("cannot start: %s", exc)
            raise
        models = ModelsResponse(
            active_model_type=loaded.model_set.model_type,
            active_source=loaded.source,
            model_sets=list_model_sets(loaded, settings),
        )
        app.version = loaded.model_set.model_version
        app.state.serving = _Serving(loaded, models, time.monotonic())
        yield

    app = _ServingAPI(
        title="Steel plant energy-use prediction",
        max_body_size=settings.max_body_bytes,
        lifespan=lifespan,
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_middleware(_RefusedStartupInOneLine)

    def serving() -> _Serving:
        current: _Serving = app.state.serving
        return current

    def predict_one(body: PredictionRequest) -> bytes:
        model_set = serving().loaded.model_set
        value = float(model_set.predictor.predict(raw_matrix((body,)))[0])
        response = PredictionResponse(
            predicted_usage_kwh=value, model_type=model_set.model_type, model_version=model_set.model_version
        )
        return response.model_dump_json().encode()

    # The prediction routes return JSON they serialise themselves (response_model keeps the schema): FastAPI
    # would validate the response model again first, which costs a 1000-row batch about two milliseconds.
    async def predict(body: PredictionRequest) -> Response:
        """Predict one 15-minute interval."""
        return Response(predict_one(body), media_type=JSON)

    _add_json_body_route(app, PREDICT_PATH, predict, PredictionResponse)
    single_request = TypeAdapter(PredictionRequest)

    def answer_valid(body: bytes) -> bytes | None:
        try:
            request = single_request.validate_json(body)
        except ValidationError:
            return None
        return predict_one(request)

    app.hot_path = answer_valid

    batch_request = batch_request_model(settings.max_batch)

    # mypy cannot check a class made at run time as an annotation; FastAPI needs exactly that class.
    async def predict_batch(batch: batch_request) -> Response:  # type: ignore[valid-type]
        """Predict many intervals with one model call, in request order."""
        model_set = serving().loaded.model_set
        values = model_set.predictor.predict(raw_matrix(cast(BatchRequest, batch).predictions)).tolist()
        response = {
            "predictions": [{"predicted_usage_kwh": v} for v in values],
            "model_type": model_set.model_type,
            "model_version": model_set.model_version,
        }
        return Response(to_json(response), media_type=JSON)

    _add_json_body_route(app, "/predict_onnx/batch", predict_batch, BatchResponse)

    @app.get("/predict_onnx/models")
    async def list_models() -> ModelsResponse:
        """The model sets found and which one serves."""
        return serving().models

    @app.get("/health")
    async def health() -> HealthResponse:
        """Which model serves and from where; the model answered a probe before the app served."""
        current = serving()
        model_set = current.loaded.model_set
        return HealthResponse(
            status="healthy",
            model_loaded=True,
            model_type=model_set.model_type,
            model_version=model_set.model_version,
            model_source=current.loaded.source,
            model_path=str(model_set.directory),
            fallback_reason=current.loaded.fallback_reason,
            uptime_seconds=round(time.monotonic() - current.started, 3),
        )

    return app


class _ServingAPI(FastAPI):
    """FastAPI with service/hot_path.py's HotPath in front of its whole middleware stack, once `hot_path` is set."""

    hot_path: Answer | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if self.hot_path is None:
            return stack
        assert self.max_body_size is not None, "the hot path needs the body limit"
        return HotPath(stack, PREDICT_PATH, self.hot_path, self.max_body_size)


class _RefusedStartupInOneLine:
    """ASGI middleware: a startup refused for want of a model is reported by its `cannot start:` line alone.

    Starlette passes uvicorn the traceback of a failed lifespan, which uvicorn logs as an error; for a
    refusal the lifespan has already logged the reason, so the traceback would only bury it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_refusal_quietly(message: Message) -> None:
            # Starlette sends startup.failed from inside its `except` block, so the error is the one handled.
            if message["type"] == "lifespan.startup.failed" and isinstance(sys.exc_info()[1], NoValidModelError):
                message = {"type": "lifespan.startup.failed", "message": ""}
            await send(message)

        await self.app(scope, receive, send_refusal_quietly)


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
    detail = [{"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]} for error in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A logged 500 with no internals in the body; the server logs the traceback as well."""
    logger.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return JSONResponse({"detail": "internal server error"}, status_code=500)
