"""Two runs of two copies of one project, same tag, on one engine beside a CPU-burning container: both pass,
both say their figures were measured on a busy engine, no gate calls that a regression, and nothing is left."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from container_harness.ownership import LABEL, EngineSession

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"
BUSYBOX = "local/busybox:stable"  # made by the tiny fixture's provider, which the runs below call first
CHILD_TIMEOUT_S = 600
# Smaller-is-better figures the gate's default tolerances cover; the burner makes some of them contended.
HALVED = ("memory.idle_bytes", "startup.ready_median_s", "build.full_s", "build.cached_s")

CONFIG = """
checks = ["full_build", "cached_rebuild", "code_change_rebuild", "image_size", "startup", "idle_usage"]
dockerfile = "{tiny}/Dockerfile"
context = "{tiny}"
tag = "{tag}"
base_provider = "sh {tiny}/provide_base.sh"
code_change_path = "app/www/index.html"
start_repeats = 3
idle_seconds = 3
report = "out/report.json"

[run]
port = 8080
health_path = "/healthz"
"""

pytestmark = pytest.mark.container


def _start(project: Path, tag: str) -> subprocess.Popen[str]:
    project.mkdir()
    (project / "harness.toml").write_text(CONFIG.format(tiny=TINY, tag=tag))
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "--harness", "--harness-config", "harness.toml", "-p", "no:cacheprovider"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _report(project: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((project / "out" / "report.json").read_text())
    return report


@pytest.mark.parametrize("apart_s", [0, 30], ids=["together", "30s-apart"])
def test_two_runs_with_one_tag_beside_a_cpu_burner_pass_flag_contention_and_leave_nothing(
    harness_session: EngineSession, tmp_path: Path, apart_s: int
) -> None:
    client = harness_session.client
    subprocess.run(["sh", str(TINY / "provide_base.sh")], check=True, capture_output=True)
    burner = client.containers.run(
        BUSYBOX, ["sh", "-c", "while :; do :; done"], detach=True, labels=harness_session.labels()
    )
    tag = f"harness-parallel/tiny:{secrets.token_hex(4)}"
    projects = [tmp_path / "a", tmp_path / "b"]
    try:
        first = _start(projects[0], tag)
        time.sleep(apart_s)
        second = _start(projects[1], tag)
        outputs = [run.communicate(timeout=CHILD_TIMEOUT_S)[0] for run in (first, second)]
    finally:
        burner.remove(force=True)

    for run, output in zip((first, second), outputs, strict=True):
        assert run.returncode == 0, output[-4000:]
    reports = [_report(project) for project in projects]
    for project, report in zip(projects, reports, strict=True):
        contention = report["environment"]["contention"]
        assert contention["checks"], "no check saw the burner"
        # A baseline twice as good on the contended figures: the gate calls them inconclusive and passes.
        baseline = json.loads(json.dumps(report))
        halved = [name for name in HALVED if name in contention["figures"]]
        assert halved, contention
        for name in halved:
            group, figure = name.split(".")
            baseline[group][figure] /= 2
        (project / "baseline.json").write_text(json.dumps(baseline))
        gate = subprocess.run(
            [sys.executable, "-m", "container_harness", "compare", "--baseline", "baseline.json", "out/report.json"],
            cwd=project,
            capture_output=True,
            text=True,
        )
        assert gate.returncode == 0, gate.stdout
        assert "inconclusive" in gate.stdout
    sessions = [report["environment"]["session_id"] for report in reports]
    for session_id in sessions:
        label = {"label": f"{LABEL}={session_id}"}
        assert client.containers.list(all=True, filters=label) == []
        assert client.volumes.list(filters=label) == []
    assert not [t for image in client.images.list() for t in image.tags if t.startswith(tag.split(":")[0])]
