"""service/tracking.py against a real MLflow tracking server, run from a venv of its own (.venv/mlflow-server)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.model_store import LoadedModel, resolve
from service.settings import Settings
from service.tracking import (
    MlflowRestClient,
    Recording,
    flatten_metrics,
    model_record,
    record_served_model,
    record_with_retries,
)
from tests.unit.service.server_process import Server

SERVER_START_TIMEOUT_S = 90.0
# MLflow needs gunicorn < 27 and the API image ships 27: its server lives in a venv of its own inside the test
# venv, installed from the MLflow image's pins (scripts/setup_env.sh, tox.ini).
MLFLOW_EXECUTABLE = Path(sys.prefix) / "mlflow-server" / "bin" / "mlflow"


def _free_port() -> int:
    """A port for an MLflow server to bind itself: `mlflow server` takes no socket, so a short race remains."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port the kernel picked, held bound but not listening: connections are refused and no one else takes it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


class MlflowServer:
    """A real `mlflow server` subprocess with a SQLite backend in a temp directory."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.uri = f"http://127.0.0.1:{port}"
        self.workdir = workdir
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Launch the server in its own process group (it spawns helpers that must die with it)."""
        executable = MLFLOW_EXECUTABLE
        if not executable.is_file():
            pytest.fail(f"{executable} is missing: scripts/setup_env.sh or `tox -e unit` installs it", pytrace=False)
        command = [
            str(executable),
            "server",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--workers", "1",
            "--backend-store-uri", f"sqlite:///{self.workdir / 'mlflow.db'}",
            "--artifacts-destination", str(self.workdir / "artifacts"),
        ]  # fmt: skip
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        log = (self.workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

    def wait_ready(self) -> float:
        """Seconds until GET /health answers 200; fails the test with the server log otherwise."""
        assert self.process is not None
        started = time.monotonic()
        while time.monotonic() - started < SERVER_START_TIMEOUT_S:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=1):
                    return time.monotonic() - started
            except OSError:
                time.sleep(0.2)
        tail = (self.workdir / "server.log").read_text(errors="replace")[-2000:]
        pytest.fail(f"mlflow server at {self.uri} not ready after {SERVER_START_TIMEOUT_S} s:\n{tail}")

    def stop(self) -> None:
        """Terminate the whole process group, killing it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def runs(self, experiment_name: str) -> list[dict[str, Any]]:
        """Every run of an experiment as MLflow's REST API returns it."""
        client = MlflowRestClient(self.uri, timeout_s=5)
        experiment_id = client.experiment_id(experiment_name)
        answer = client.call("runs/search", {"experiment_ids": [experiment_id], "max_results": 100})
        runs: list[dict[str, Any]] = answer.get("runs", [])
        return runs


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow"), _free_port())
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def loaded(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """The repo's default model set, resolved as the service resolves it."""
    absent = tmp_path_factory.mktemp("no-external") / "external"
    return resolve(Settings(embedded_model_path=models_dir, external_model_path=absent))


def _settings(models_dir: Path, tmp_path: Path, uri: str | None) -> Settings:
    return Settings(
        embedded_model_path=models_dir,
        external_model_path=tmp_path / "absent",
        mlflow_tracking_uri=uri,
    )


def _by_key(items: list[dict[str, str]]) -> dict[str, str]:
    return {item["key"]: item["value"] for item in items}


def test_settings_read_the_tracking_uri_from_the_environment() -> None:
    assert Settings.from_env({"MLFLOW_TRACKING_URI": " http://mlflow:5000 "}).mlflow_tracking_uri == (
        "http://mlflow:5000"
    )
    assert Settings.from_env({"MLFLOW_TRACKING_URI": ""}).mlflow_tracking_uri is None
    assert Settings.from_env({}).mlflow_tracking_uri is None


def test_flatten_metrics_keys_numbers_by_dotted_path_and_drops_text() -> None:
    metrics = {"holdout": {"rmse": 0.5, "rows": 7008, "split": "last 20 %", "ok": True}, "r2": 0.99}
    assert dict(flatten_metrics(metrics)) == {"holdout.rmse": 0.5, "holdout.rows": 7008.0, "r2": 0.99}


def test_model_record_names_the_served_model_and_carries_its_metadata_metrics(loaded: LoadedModel) -> None:
    record = model_record(loaded)
    metadata = loaded.model_set.metadata
    assert record.params["model_type"] == loaded.model_set.model_type
    assert record.params["model_version"] == metadata["model_version"]
    assert record.params["source"] == "embedded"
    holdout = metadata["metrics"]["chronological_holdout"]
    for name in ("rmse", "mae", "r2"):
        assert record.metrics[f"chronological_holdout.{name}"] == pytest.approx(holdout[name])
    assert record.run_name == f"{metadata['model_type']}-{metadata['model_version']}"


def test_recording_makes_one_finished_run_with_params_metrics_and_tags(
    mlflow_server: MlflowServer,
    loaded: LoadedModel,
    models_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="service.tracking")
    settings = _settings(models_dir, tmp_path, mlflow_server.uri)
    assert record_served_model(settings)

    version = loaded.model_set.model_version
    runs = [
        run
        for run in mlflow_server.runs("energy-optimization-api")
        if _by_key(run["data"].get("params", [])).get("model_version") == version
    ]
    assert len(runs) == 1
    run = runs[0]
    assert run["info"]["status"] == "FINISHED"
    params = _by_key(run["data"]["params"])
    assert params["model_type"] == loaded.model_set.model_type
    assert params["source"] == "embedded"
    metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
    holdout = loaded.model_set.metadata["metrics"]["chronological_holdout"]
    assert metrics["chronological_holdout.rmse"] == pytest.approx(holdout["rmse"])
    assert metrics["chronological_holdout.r2"] == pytest.approx(holdout["r2"])
    assert _by_key(run["data"]["tags"])["service"] == "energy-optimization-api"
    outcome = [r.getMessage() for r in caplog.records if r.name == "service.tracking"]
    assert len(outcome) == 1
    assert f"as run {run['info']['run_id']}" in outcome[0]


def test_a_second_server_start_reuses_the_experiment(
    mlflow_server: MlflowServer, loaded: LoadedModel
) -> None:
    client = MlflowRestClient(mlflow_server.uri)
    first = Recording(model_record(loaded), experiment_name="reuse-check")
    second = Recording(model_record(loaded), experiment_name="reuse-check")
    record_with_retries(client, first, delays_s=())
    record_with_retries(client, second, delays_s=())
    assert first.experiment_id == second.experiment_id
    assert first.run_id != second.run_id
    assert {run["info"]["run_id"] for run in mlflow_server.runs("reuse-check")} == {
        first.run_id,
        second.run_id,
    }


def test_recording_waits_for_a_server_that_starts_late_and_makes_one_run(
    loaded: LoadedModel, tmp_path: Path
) -> None:
    server = MlflowServer(tmp_path, _free_port())
    recording = Recording(model_record(loaded))
    outcome: list[str] = []
    first_attempt_failed = threading.Event()

    def sleep(delay_s: float) -> None:
        if delay_s:  # the sleep before attempt 2: attempt 1 has failed
            first_attempt_failed.set()
        time.sleep(delay_s)

    # Retries for twice as long as the server may take to start, so a slow start on a stolen CPU still records.
    delays_s = (0.5,) * int(2 * SERVER_START_TIMEOUT_S / 0.5)
    thread = threading.Thread(
        target=lambda: outcome.append(
            record_with_retries(MlflowRestClient(server.uri, 2.0), recording, delays_s, sleep)
        )
    )
    thread.start()
    try:
        assert first_attempt_failed.wait(timeout=60)
        server.start()
        server.wait_ready()
        thread.join(timeout=60)
        assert not thread.is_alive()
        assert outcome[0].startswith(f"recorded model {recording.record.run_name} as run {recording.run_id}")
        assert "attempt 1," not in outcome[0]
        assert [run["info"]["run_id"] for run in server.runs("energy-optimization-api")] == [recording.run_id]
    finally:
        server.stop()


def test_unreachable_server_gives_up_with_one_line_after_its_attempts(loaded: LoadedModel, refused_port: int) -> None:
    client = MlflowRestClient(f"http://127.0.0.1:{refused_port}", timeout_s=0.5)
    slept: list[float] = []
    outcome = record_with_retries(client, Recording(model_record(loaded)), (0.05, 0.05), slept.append)
    assert slept == [0.0, 0.05, 0.05]
    assert outcome.startswith("model not recorded (3 attempts in ")
    assert "\n" not in outcome


def test_non_http_tracking_uri_is_logged_and_ignored(
    models_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(models_dir, tmp_path, "file:///tmp/mlruns")
    assert not record_served_model(settings)
    assert "only http(s) tracking URIs are supported" in caplog.text


def test_a_server_with_two_workers_records_one_run(
    mlflow_server: MlflowServer, start_server: Callable[..., Server]
) -> None:
    before = len(mlflow_server.runs("energy-optimization-api"))
    server = start_server(MLFLOW_TRACKING_URI=mlflow_server.uri, WEB_CONCURRENCY="2")
    server.wait_healthy()
    deadline = time.monotonic() + 30
    while "mlflow http://127.0.0.1" not in server.output() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # a second recording, if any, would be as fast

    assert len(mlflow_server.runs("energy-optimization-api")) == before + 1, server.output()
    assert server.output().count("recorded model ") == 1


def test_server_serves_at_once_while_mlflow_hangs(start_server: Callable[..., Server]) -> None:
    """No wall-clock bound: serving while the recording has not ended, but has begun, is the proof."""
    with socket.create_server(("127.0.0.1", 0)) as blackhole:  # accepts connections (backlog), never answers
        server = start_server(MLFLOW_TRACKING_URI=f"http://127.0.0.1:{blackhole.getsockname()[1]}")
        server.wait_healthy()
        # Against a black hole the recording can only end by giving up, after about two minutes of retries.
        assert "model not recorded" not in server.output(), "serving waited for the recording to give up"
        blackhole.settimeout(60)
        connection, _ = blackhole.accept()  # the recording is really trying this server
        connection.close()


def test_no_valid_model_records_nothing_and_leaves_the_reason_to_the_workers(tmp_path: Path, refused_port: int) -> None:
    settings = Settings(
        embedded_model_path=tmp_path / "empty",
        external_model_path=tmp_path / "absent",
        mlflow_tracking_uri=f"http://127.0.0.1:{refused_port}",
    )
    assert not record_served_model(settings)


def test_outcome_line_names_no_credentials(
    models_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, refused_port: int
) -> None:
    caplog.set_level(logging.INFO, logger="service.tracking")
    uri = f"http://user:secret@127.0.0.1:{refused_port}"
    assert not record_served_model(_settings(models_dir, tmp_path, uri), delays_s=(), timeout_s=0.5)
    lines = [r.getMessage() for r in caplog.records if r.name == "service.tracking"]
    assert len(lines) == 1
    assert "secret" not in lines[0]
    assert "model not recorded (1 attempts in " in lines[0]
    assert "http://127.0.0.1:" in lines[0]
