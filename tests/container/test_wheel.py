"""The wheel a user installs: only `container_harness/`, none of the service's stack, and a plugin that checks an
image in a project holding nothing but a Dockerfile and [tool.harness] settings."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from container_harness.engine import connect

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny_service"
INSTALL_TIMEOUT_S = 600
# The proving ground's stack: a user who installs the harness gets none of it.
SERVICE_STACK = ("fastapi", "onnxruntime", "numpy", "uvicorn", "gunicorn")

PYPROJECT = """
[tool.harness]
tag = "harness-wheel/tiny:{token}"
base_provider = "sh {tiny}/provide_base.sh"
start_repeats = 1
idle_seconds = 1
report = "reports/report.json"

[tool.harness.run]
port = 8080
health_path = "/healthz"
"""

pytestmark = pytest.mark.container


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    (built,) = out.glob("container_harness-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtual environment with only the wheel (and what it depends on) installed."""
    where = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    pip = [str(where / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, str(wheel)], check=True, timeout=INSTALL_TIMEOUT_S)
    yield where
    shutil.rmtree(where, ignore_errors=True)


def test_the_wheel_holds_only_the_harness(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    print("\n".join(names))
    packages = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert packages == {"container_harness"}
    assert "container_harness/py.typed" in names
    metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Classifier: Framework :: Pytest" in text
    assert "License-File: LICENSE" in text
    entry_points = zipfile.ZipFile(wheel).read(metadata.replace("METADATA", "entry_points.txt")).decode()
    assert "container-harness = container_harness.cli:main" in entry_points
    assert "container_harness = container_harness.pytest_plugin.plugin" in entry_points


def test_installing_it_pulls_none_of_the_service_stack(venv: Path) -> None:
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
    )
    installed = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert not installed & set(SERVICE_STACK), sorted(installed)
    assert "container-harness" in installed


def test_a_project_with_only_a_dockerfile_and_settings_gets_the_checks_and_a_report(
    venv: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(TINY, project, ignore=shutil.ignore_patterns("provide_base.sh"))
    token = secrets.token_hex(4)
    (project / "pyproject.toml").write_text(PYPROJECT.format(token=token, tiny=TINY))

    run = subprocess.run(
        [str(venv / "bin" / "pytest"), "-m", "container", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
    )

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "no tests ran" not in run.stdout
    report = json.loads((project / "reports" / "report.json").read_text())
    assert report["environment"]["harness"]["checks"][:2] == ["full_build", "cached_rebuild"]
    assert report["image"]["size_bytes"] > 0
    assert report["startup"]["ready_median_s"] > 0
    left = [t for image in connect().images.list() for t in image.tags if t.startswith(f"harness-wheel/tiny:{token}")]
    assert left == [], "the run left its image behind"
