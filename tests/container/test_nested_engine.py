"""The harness from inside a container that shares the engine's socket (CI docker executors, dev containers).

One throw-away project on the tiny image (every built-in check and the load check with a foreign two-endpoint
locustfile) runs twice: in a child pytest here, and in a container of the local Python base with the engine
socket mounted. The nested run must pass and reach the service (its load run gets answers from both
endpoints), and its figures must match the host run's. Inside, the project lives at a path the engine's host
does not have (as in GitLab's docker executor), so its volume override mounts a copy of the project's folder.

The nested container runs Debian's python3.11 on this worktree's installed packages (mounted read-only at the
same path, on PYTHONPATH), so nothing is installed from a registry.
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from container_harness.engine import connect
from container_harness.ownership import LABEL, EngineSession, new_session
from tests.container.tiny_project import RUN_TABLES

pytestmark = pytest.mark.container

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
TINY = FIXTURES / "tiny_service"
RUNNER_IMAGE = "local/python:3.11-slim-bookworm"
SOCKET = "/var/run/docker.sock"
INSIDE = Path("/project-in-the-runner")  # where the nested run sees the project: no such path on the host
TIMEOUT_S = 600

CONFIG = """
dockerfile = "{tiny}/Dockerfile"
context = "{tiny}"
tag = "{tag}"
build_args = {{ BASE_IMAGE = "{base}" }}
# The same builder on both sides: the nested container has no buildx plugin, and BuildKit's image of the same
# Dockerfile differs from the classic builder's by a few bytes of metadata.
builder = "classic"
code_change_path = "app/www/index.html"
start_repeats = 2
idle_seconds = 2
report = "out/report.json"

[expect]
uid = 10001
files = ["/srv/www/index.html", "/srv/www/cgi-bin/slow"]
absent_globs = ["*.key"]

[load]
locustfile = "{locustfile}"
users = 4
spawn_rate = 4
duration_s = 4
warmup_s = 1
"""

TEST_MODULE = (
    "from container_harness.pytest_plugin.checks import *  # noqa: F403\n"
    "from container_harness.pytest_plugin.load_checks import *  # noqa: F403\n"
)
CHECKS = 14  # the 13 built-in checks this configuration runs, and the load check


@pytest.fixture(scope="module")
def session() -> Iterator[EngineSession]:
    """A labelled session: the tiny base made once for both runs, and the nested runner container."""
    run = new_session(connect())
    try:
        yield run
    finally:
        run.cleanup()


@pytest.fixture(scope="module")
def base(session: EngineSession) -> str:
    """The tiny image's base, made by its provider here (the nested run has no apt-get or docker CLI)."""
    tag = f"harness-test/busybox:{session.id}"
    session.track_image(tag)
    subprocess.run(["sh", str(TINY / "provide_base.sh"), tag], check=True, capture_output=True, timeout=300)
    return tag


def _project(path: Path, tag: str, base: str) -> Path:
    """The project's files in path; returns the config."""
    path.mkdir(parents=True, exist_ok=True)
    config = path / "harness.toml"
    locustfile = FIXTURES / "locustfiles" / "two_endpoints.py"
    config.write_text(CONFIG.format(tiny=TINY, tag=tag, base=base, locustfile=locustfile) + RUN_TABLES)
    external = path / "external"
    external.mkdir(exist_ok=True)
    external.chmod(0o755)
    (external / "source.json").write_text('{"source": "external"}')
    (external / "source.json").chmod(0o644)
    (path / "test_tiny.py").write_text(TEST_MODULE)
    return config


def _pytest_args(config: Path | str) -> list[str]:
    return ["-m", "pytest", "-m", "container", "--harness-config", str(config), "-p", "no:cacheprovider", "-q"]


def _report(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((path / "out" / "report.json").read_text())
    return report


@pytest.fixture(scope="module")
def host_report(session: EngineSession, base: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The project run by a child pytest in this process's environment."""
    path = tmp_path_factory.mktemp("host")
    config = _project(path, f"harness-test/tiny-host:{session.id}", base)
    done = subprocess.run(
        [sys.executable, *_pytest_args(config)], cwd=path, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return _report(path)


@pytest.fixture(scope="module")
def nested(session: EngineSession, base: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """The project run in a container of the local base with the engine socket mounted, the project at /project
    (a path the engine's host does not have): (output, report)."""
    path = tmp_path_factory.mktemp("nested")
    config = _project(path, f"harness-test/tiny-nested:{session.id}", base)
    packages = site.getsitepackages()[0]
    container = session.client.containers.run(
        RUNNER_IMAGE,
        ["python3", *_pytest_args(INSIDE / config.name)],
        detach=True,
        labels=session.labels(),
        working_dir=str(INSIDE),
        environment={"PYTHONPATH": f"{ROOT}:{packages}", "HOME": "/tmp"},
        volumes={
            SOCKET: {"bind": SOCKET, "mode": "rw"},
            str(ROOT): {"bind": str(ROOT), "mode": "ro"},
            str(path): {"bind": str(INSIDE), "mode": "rw"},
        },
    )
    exit_code = container.wait(timeout=TIMEOUT_S)["StatusCode"]
    output = container.logs().decode(errors="replace")
    assert exit_code == 0, output[-4000:]
    return output, _report(path)


def test_the_whole_suite_passes_inside_a_container_sharing_the_engine(nested: tuple[str, dict[str, Any]]) -> None:
    output, report = nested
    assert f"{CHECKS} passed" in output, output[-2000:]
    assert report["load"]["failures"] == 0
    assert set(report["load"]["endpoints"]) == {"fast", "slow"}
    # Not 127.0.0.1: inside a container that is the container itself, where nothing is published.
    assert report["environment"]["reach"]["bind"] == "0.0.0.0"
    assert report["environment"]["reach"]["host"] != "127.0.0.1"
    assert report["volume"]["mounted_from"] == "copy"
    assert not INSIDE.exists()
    label = {"label": f"{LABEL}={report['environment']['session_id']}"}
    client = connect()
    left = [*client.containers.list(all=True, filters=label), *client.volumes.list(filters=label)]
    assert left == [], f"the nested run left {left}"


def test_nested_figures_match_the_host_run(nested: tuple[str, dict[str, Any]], host_report: dict[str, Any]) -> None:
    _, inside = nested
    for figure in ("size_bytes", "above_base_bytes", "layers", "user"):
        assert inside["image"][figure] == host_report["image"][figure], figure
    assert inside["volume"]["mounted_answer"] == host_report["volume"]["mounted_answer"]
    assert host_report["volume"]["mounted_from"] == "bind"
    for run in (inside, host_report):
        slow, fast = run["load"]["endpoints"]["slow"], run["load"]["endpoints"]["fast"]
        assert slow["p50_ms"] >= 30.0 > fast["p50_ms"]
        assert run["startup"]["ready_median_s"] < 5
    # The slow endpoint is a 30 ms sleep: its median through either path is within a few ms of the other.
    slow_inside = inside["load"]["endpoints"]["slow"]["p50_ms"]
    slow_host = host_report["load"]["endpoints"]["slow"]["p50_ms"]
    assert slow_inside == pytest.approx(slow_host, rel=0.5)
