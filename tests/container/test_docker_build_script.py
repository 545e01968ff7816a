"""scripts/docker_build.sh: passes on the API image, fails (non-zero, naming the model) on a broken model."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT_TIMEOUT_S = 900
# Appended to Dockerfile.api: one byte more in the meta model breaks its sha256, so no model set is valid.
BREAK_THE_MODEL = """
USER 0:0
RUN printf x >> /app/models/onnx/lightgbm_ensemble/lightgbm_meta.onnx
USER 1000:1000
"""

pytestmark = pytest.mark.container


def _run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/docker_build.sh", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def tag() -> Iterator[str]:
    """A tag of this test's own; whatever the script keeps under it is removed afterwards."""
    reference = f"energy-optimization-api:build-script-{secrets.token_hex(4)}"
    yield reference
    client = docker.from_env()
    if client.images.list(name=reference):
        client.images.remove(reference, noprune=False)


def test_script_passes_on_the_api_image(tag: str, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = _run_script("--tag", tag, "--report", str(report))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # Four checks, the prediction, and the budgets on what they measure (image size, two build times, health).
    assert "9 passed" in output, output[-2000:]
    figures = json.loads(report.read_text())
    assert figures["image"]["tag"] == tag
    assert figures["image"]["size_bytes"] > 0
    assert figures["startup"]["healthy_s"] > 0


def test_script_fails_on_a_broken_model(tag: str, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile.broken"
    dockerfile.write_text((ROOT / "Dockerfile.api").read_text() + BREAK_THE_MODEL)
    config = tmp_path / "harness.toml"
    config.write_text(
        "\n".join(
            [
                f"dockerfile = {json.dumps(str(dockerfile))}",
                f"context = {json.dumps(str(ROOT))}",
                f"tag = {json.dumps(tag)}",
                f"base_provider = {json.dumps(str(ROOT / 'scripts' / 'provide_base_image.sh'))}",
                f"budgets = {json.dumps(str(ROOT / 'benchmarks' / 'budgets.toml'))}",
                "[run]",
                "port = 8000",
                'health_path = "/health"',
            ]
        )
        + "\n"
    )
    result = _run_script("--config", str(config), "--report", str(tmp_path / "report.json"))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert "FAILED container-harness::docker_health" in output
    assert "6 passed" in output, "build, size, config and their budgets should pass; the run steps fail"
    assert "lightgbm_meta.onnx sha256" in output, output[-4000:]
    left = [t for image in docker.from_env().images.list() for t in image.tags if t.startswith(tag)]
    assert left == [], f"{tag} was left behind"
