"""docker-compose.yml on this engine: valid, both services healthy, the API records its model in MLflow and
keeps serving with MLflow stopped. Runs under a unique project name and always ends with `down -v`."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.example_request import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
HEALTHY_TIMEOUT_S = 180.0
BUILD_TIMEOUT_S = 900.0

pytestmark = pytest.mark.container


def _compose_cli() -> list[str]:
    """`docker compose` (v2) where the CLI has it, else the standalone `docker-compose` (v1)."""
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if probe.returncode == 0:
        return ["docker", "compose"]
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail("neither `docker compose` nor `docker-compose` is installed", pytrace=False)
    return [found]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http(url: str, body: dict[str, Any] | None = None, timeout: float = 10) -> tuple[int, Any]:
    """Status and decoded JSON of a GET (or a POST of `body`)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _seconds_until_healthy(url: str, timeout_s: float) -> float:
    """Seconds until `url` answers 200; fails the test after `timeout_s`."""
    started = time.monotonic()
    seen: object = "no answer"
    while time.monotonic() - started < timeout_s:
        try:
            status, seen = _http(url, timeout=2)
        except OSError as exc:
            seen = exc
        else:
            if status == 200:
                return time.monotonic() - started
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer 200 within {timeout_s} s; last seen: {seen}")


@dataclass
class Stack:
    """A compose project started from docker-compose.yml + docker-compose.local.yml."""

    project: str
    env: dict[str, str]
    api_url: str
    mlflow_url: str
    up_to_healthy_s: float = 0.0

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run scripts/compose_local.sh with this project's environment; fail with its output."""
        result = subprocess.run(
            ["bash", "scripts/compose_local.sh", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        assert result.returncode == 0, f"compose {' '.join(args)} failed:\n{output}"
        return result

    def container(self, service: str) -> Any:
        """The docker SDK container of one service of this project."""
        client = docker.from_env()
        labels = [f"com.docker.compose.project={self.project}", f"com.docker.compose.service={service}"]
        found = client.containers.list(all=True, filters={"label": labels})
        assert len(found) == 1, f"{service}: expected one container, found {len(found)}"
        return found[0]

    def health(self, service: str) -> str:
        container = self.container(service)
        container.reload()
        return str(container.attrs["State"].get("Health", {}).get("Status", "none"))


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    token = secrets.token_hex(4)
    api_port, mlflow_port = _free_port(), _free_port()
    project = f"harness-compose-{token}"
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": project,
        "API_IMAGE": f"energy-optimization-api:compose-{token}",
        "API_PORT": str(api_port),
        "MLFLOW_PORT": str(mlflow_port),
    }
    running = Stack(project, env, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{mlflow_port}")
    try:
        running.compose("build", timeout=BUILD_TIMEOUT_S)
        started = time.monotonic()
        running.compose("up", "-d")
        while time.monotonic() - started < HEALTHY_TIMEOUT_S:
            if running.health("api") == running.health("mlflow") == "healthy":
                running.up_to_healthy_s = time.monotonic() - started
                break
            time.sleep(0.5)
        yield running
    finally:
        subprocess.run(
            ["bash", "scripts/compose_local.sh", "down", "-v", "--remove-orphans", "--timeout", "10"],
            cwd=ROOT, env=env, capture_output=True, timeout=300, check=False,
        )  # fmt: skip
        client = docker.from_env()
        if client.images.list(name=env["API_IMAGE"]):
            client.images.remove(env["API_IMAGE"], noprune=False)
        label = {"label": f"com.docker.compose.project={project}"}
        left = [
            *client.containers.list(all=True, filters=label),
            *client.networks.list(filters=label),
            *client.volumes.list(filters=label),
        ]
        assert not left, f"compose project {project} left objects behind: {left}"


def test_compose_files_are_valid_for_the_installed_compose() -> None:
    cli = _compose_cli()
    for files in (
        ["-f", "docker-compose.yml"],
        ["-f", "docker-compose.yml", "-f", "docker-compose.local.yml"],
    ):
        checked = subprocess.run([*cli, *files, "config", "-q"], cwd=ROOT, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    services = subprocess.run(
        [*cli, "-f", "docker-compose.yml", "config", "--services"], cwd=ROOT, capture_output=True, text=True
    )
    assert sorted(services.stdout.split()) == ["api", "mlflow"]


def test_up_brings_both_services_healthy_with_the_declared_limits(stack: Stack) -> None:
    assert stack.up_to_healthy_s > 0, (
        f"not both healthy within {HEALTHY_TIMEOUT_S} s: api {stack.health('api')}, "
        f"mlflow {stack.health('mlflow')}"
    )
    print(f"compose up -d to both healthy: {stack.up_to_healthy_s:.1f} s")
    host_config = stack.container("api").attrs["HostConfig"]
    assert host_config["NanoCpus"] == 2_000_000_000
    assert host_config["Memory"] == 2 * 1024**3
    assert host_config["MemoryReservation"] == 512 * 1024**2
    assert host_config["RestartPolicy"]["Name"] == "unless-stopped"
    networks = stack.container("api").attrs["NetworkSettings"]["Networks"]
    assert list(networks) == [f"{stack.project}_energy-net"]


def test_api_records_its_model_version_in_mlflow(stack: Stack) -> None:
    status, health = _http(f"{stack.api_url}/health")
    assert status == 200, health
    version = health["model_version"]
    deadline = time.monotonic() + 60
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not runs:
        status, found = _http(
            f"{stack.mlflow_url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=energy-optimization-api"
        )
        if status == 200:
            experiment_id = found["experiment"]["experiment_id"]
            status, answer = _http(
                f"{stack.mlflow_url}/api/2.0/mlflow/runs/search",
                {"experiment_ids": [experiment_id], "filter": f"params.model_version = '{version}'"},
            )
            runs = answer.get("runs", []) if status == 200 else []
        time.sleep(1)
    logs = stack.container("api").logs(tail=40).decode(errors="replace")
    assert len(runs) == 1, f"expected one run for model {version} (two workers, one records):\n{logs}"
    assert runs[0]["info"]["status"] == "FINISHED"
    assert "mlflow http://mlflow:5000: recorded model" in logs


def test_api_keeps_serving_and_restarts_with_mlflow_stopped(stack: Stack) -> None:
    stack.compose("stop", "mlflow")
    for _ in range(20):
        status, body = _http(f"{stack.api_url}/predict_onnx", EXAMPLE)
        assert status == 200, body
    stack.compose("restart", "api")
    ready_s = _seconds_until_healthy(f"{stack.api_url}/health", timeout_s=15)
    print(f"API restart with MLflow stopped to /health 200: {ready_s:.1f} s")
    status, body = _http(f"{stack.api_url}/predict_onnx", EXAMPLE)
    assert status == 200, body
    mlflow = stack.container("mlflow")
    assert mlflow.status == "exited"
