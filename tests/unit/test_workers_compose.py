"""deploy/locust-workers/compose.yaml: valid for docker-compose (offline: `config` only reads and checks it) and
in step with what the harness's workers run (the recorder's path in the image, its environment variables)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from container_harness.load.latency import RAW_TIMES_DIR_ENV, WORKER_ID_ENV
from container_harness.load.worker_image import PYTHON_IN_IMAGE, RECORDER_IN_IMAGE

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "locust-workers" / "compose.yaml"
REQUIRED = {"HARNESS_WORKER_IMAGE": "workers:1", "MASTER_HOST": "10.0.0.5", "WORKER_ID": "r1"}


def _config(env: dict[str, str], path: Path = COMPOSE) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` of path with env (it fails without docker-compose installed, never skips)."""
    return subprocess.run(
        ["docker-compose", "-f", str(path), "config"], env={**os.environ, **env}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_the_compose_file_resolves_to_a_worker_that_runs_the_harness_recorder() -> None:
    done = _config(REQUIRED)
    assert done.returncode == 0, done.stderr
    worker: dict[str, Any] = yaml.safe_load(done.stdout)["services"]["worker"]
    command = worker["command"]
    assert command[0] == PYTHON_IN_IMAGE
    assert command[command.index("-f") + 1] == f"{RECORDER_IN_IMAGE},/locust/locustfile.py"
    assert command[command.index("--master-host") + 1] == "10.0.0.5"
    assert set(worker["environment"]) == {RAW_TIMES_DIR_ENV, WORKER_ID_ENV}
    assert worker["environment"][WORKER_ID_ENV] == "r1"


def test_a_missing_worker_id_is_refused_with_its_name() -> None:
    done = _config({key: value for key, value in REQUIRED.items() if key != "WORKER_ID"})
    assert done.returncode != 0
    assert "WORKER_ID" in done.stderr


def test_a_misspelt_key_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    network_mode: host", "    network_mod: host"))
    done = _config(REQUIRED, broken)
    assert done.returncode != 0
    assert "network_mod" in done.stderr

