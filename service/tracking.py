"""Record the served model in MLflow: `python -m service.tracking`, started once per server by the gunicorn master.

A process of its own because the master must not import NumPy or ONNX Runtime: their threads would be
copied half-alive into every worker it forks, which then hangs on exit. MLflow's REST API through urllib
keeps the image small: the `mlflow` package is never installed in it.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from service.model_store import LoadedModel, NoValidModelError, resolve
from service.settings import LOG_FORMAT, Settings

logger = logging.getLogger("service.tracking")  # also when run as __main__

EXPERIMENT_NAME: Final[str] = "energy-optimization-api"
REQUEST_TIMEOUT_S: Final[float] = 2.0
# About two minutes of patience, so an API that starts before its tracking server still records; the
# recording has a process of its own, so waiting costs serving nothing.
RETRY_DELAYS_S: Final[tuple[float, ...]] = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
PARAM_VALUE_LIMIT: Final[int] = 500


class MlflowError(Exception):
    """The tracking server could not be reached or refused a call; the message says which and why."""

    def __init__(self, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code


@dataclass(frozen=True)
class ModelRecord:
    """What one run says about the served model: its identity as params, its quality as metrics."""

    run_name: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


def model_record(loaded: LoadedModel) -> ModelRecord:
    """The run content for the model that serves, read from its metadata."""
    model_set, metadata = loaded.model_set, loaded.model_set.metadata
    params = {
        "model_type": model_set.model_type,
        "model_version": model_set.model_version,
        "source": loaded.source,
        "model_path": str(model_set.directory),
        "feature_engineering_version": str(metadata.get("feature_engineering_version", "")),
    }
    tags = {"service": EXPERIMENT_NAME, "host": socket.gethostname()}
    tags["model_created_at"] = str(metadata.get("created_at", ""))
    if loaded.fallback_reason:
        tags["fallback_reason"] = loaded.fallback_reason
    return ModelRecord(
        run_name=f"{model_set.model_type}-{model_set.model_version}",
        params={key: value[:PARAM_VALUE_LIMIT] for key, value in params.items()},
        metrics=dict(flatten_metrics(metadata.get("metrics", {}))),
        tags=tags,
    )


def flatten_metrics(metrics: object, prefix: str = "") -> Iterator[tuple[str, float]]:
    """Every number in a nested metrics object, keyed by its dotted path (`holdout.rmse`)."""
    if isinstance(metrics, Mapping):
        for key, value in metrics.items():
            yield from flatten_metrics(value, f"{prefix}{key}.")
    elif isinstance(metrics, int | float) and not isinstance(metrics, bool):
        yield prefix.rstrip("."), float(metrics)


class MlflowRestClient:
    """The few MLflow REST calls a model record needs, each with a short timeout."""

    def __init__(self, tracking_uri: str, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.base = tracking_uri.rstrip("/") + "/api/2.0/mlflow/"
        self.timeout_s = timeout_s

    def call(self, endpoint: str, body: dict[str, Any] | None = None, query: dict[str, str] | None = None) -> Any:
        """POST `body` (or GET with `query`) to one endpoint and return the decoded JSON answer."""
        url = self.base + endpoint + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                answer = json.loads(exc.read())
                code, message = str(answer.get("error_code", "")), str(answer.get("message", ""))[:300]
            except (OSError, ValueError, AttributeError):
                code, message = "", str(exc.reason)
            raise MlflowError(f"{endpoint} answered HTTP {exc.code} {code}: {message}", code) from None
        except (OSError, ValueError) as exc:
            raise MlflowError(f"{endpoint} failed: {exc}") from None

    def experiment_id(self, name: str) -> str:
        """The id of experiment `name`, created when it does not exist yet."""
        try:
            answer = self.call("experiments/get-by-name", query={"experiment_name": name})
            return str(answer["experiment"]["experiment_id"])
        except MlflowError as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
        try:
            return str(self.call("experiments/create", {"name": name})["experiment_id"])
        except MlflowError as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":  # another server created it meanwhile
                raise
        return self.experiment_id(name)


@dataclass
class Recording:
    """One model record on its way to the server; steps done are kept, so a retry never makes a second run."""

    record: ModelRecord
    experiment_name: str = EXPERIMENT_NAME
    experiment_id: str | None = None
    run_id: str | None = None
    logged: bool = False
    finished: bool = False

    def advance(self, client: MlflowRestClient) -> str:
        """Do the steps still missing (experiment, run, params/metrics, finish); return the run id."""
        if self.experiment_id is None:
            self.experiment_id = client.experiment_id(self.experiment_name)
        now_ms = int(time.time() * 1000)
        if self.run_id is None:
            tags = _pairs(self.record.tags)
            run = {"experiment_id": self.experiment_id, "run_name": self.record.run_name, "tags": tags}
            self.run_id = str(client.call("runs/create", {**run, "start_time": now_ms})["run"]["info"]["run_id"])
        if not self.logged:
            metrics = [{"key": k, "value": v, "timestamp": now_ms, "step": 0} for k, v in self.record.metrics.items()]
            params = _pairs(self.record.params)
            client.call("runs/log-batch", {"run_id": self.run_id, "params": params, "metrics": metrics})
            self.logged = True
        client.call("runs/update", {"run_id": self.run_id, "status": "FINISHED", "end_time": now_ms})
        self.finished = True
        return self.run_id


def record_with_retries(
    client: MlflowRestClient,
    recording: Recording,
    delays_s: Sequence[float] = RETRY_DELAYS_S,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Advance the recording until done or out of delays; return the outcome as one log line."""
    started = time.monotonic()
    error: Exception | None = None
    for attempt, delay in enumerate((0.0, *delays_s), start=1):
        sleep(delay)
        try:
            run_id = recording.advance(client)
        except (MlflowError, KeyError, TypeError) as exc:  # unreachable, refused, or an unexpected answer
            error = exc
            continue
        return (
            f"recorded model {recording.record.run_name} as run {run_id} in experiment "
            f"{recording.experiment_name!r} (attempt {attempt}, {time.monotonic() - started:.2f} s)"
        )
    return (
        f"model not recorded ({len(delays_s) + 1} attempts in {time.monotonic() - started:.1f} s): {error}; "
        "serving is not affected"
    )


def record_served_model(
    settings: Settings, delays_s: Sequence[float] = RETRY_DELAYS_S, timeout_s: float = REQUEST_TIMEOUT_S
) -> bool:
    """Record the model set the workers serve (resolved as each of them resolves it); log the outcome in one line.

    True when a run was recorded; False when MLflow is not configured, unsupported, unreachable or refuses.
    """
    uri = settings.mlflow_tracking_uri
    if not uri:
        return False
    where = _redacted(uri)
    if urllib.parse.urlsplit(uri).scheme not in ("http", "https"):
        logger.warning("mlflow %s: only http(s) tracking URIs are supported; model not recorded", where)
        return False
    try:
        recording = Recording(model_record(resolve(settings)))
    except NoValidModelError:
        return False  # the workers refuse to start and say why
    outcome = record_with_retries(MlflowRestClient(uri, timeout_s), recording, delays_s)
    logger.log(logging.INFO if recording.finished else logging.WARNING, "mlflow %s: %s", where, outcome)
    return recording.finished


def _pairs(mapping: Mapping[str, str]) -> list[dict[str, str]]:
    """MLflow's list-of-key/value form."""
    return [{"key": key, "value": value} for key, value in mapping.items()]


def _redacted(uri: str) -> str:
    """The URI without user and password, for logs."""
    parts = urllib.parse.urlsplit(uri)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


if __name__ == "__main__":
    _settings = Settings.from_env()
    logging.basicConfig(level=_settings.log_level, format=LOG_FORMAT, stream=sys.stderr)
    sys.exit(0 if record_served_model(_settings) else 1)
