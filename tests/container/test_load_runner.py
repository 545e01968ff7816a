"""The load runner drives real Locust runs against a real HTTP server (the standard library's)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from container_harness.errors import HarnessError
from container_harness.load.command import RECORDER
from container_harness.load.latency import HEALTH_PATH_ENV, read_raw_times
from container_harness.load.runner import run_load
from container_harness.specs import LoadSpec

pytestmark = pytest.mark.container

LOCUSTFILE = Path(__file__).resolve().parents[2] / "benchmarks" / "locustfile.py"
# The benchmark's locustfile in its health scenario: GETs of one path, no model metadata needed.
SCENARIO_ENV = "HARNESS_LOAD_SCENARIO"
HEALTH_ONLY = {SCENARIO_ENV: "health", HEALTH_PATH_ENV: "/"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m http.server` on a free port, serving an empty directory."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = tmp_path_factory.mktemp("www")
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def test_run_measures_the_window_after_warmup(server: str, tmp_path: Path) -> None:
    spec = LoadSpec(LOCUSTFILE, users=4, spawn_rate=4, duration_s=3, warmup_s=1, cpuset="0", env=HEALTH_ONLY)
    result = run_load(spec, server, tmp_path)
    recorded = read_raw_times(result.raw_times_path)
    assert result.requests > 0
    assert result.failures == 0
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms
    assert result.requests < len(recorded)  # the warm-up's requests are left out
    assert 2.5 < result.window_s <= 3.0
    assert result.rps == pytest.approx(result.requests / result.window_s)
    assert {record.name for record in recorded} == {"/"}
    assert result.cpuset == "0"


def test_several_processes_write_one_raw_times_file_each(server: str, tmp_path: Path) -> None:
    spec = LoadSpec(LOCUSTFILE, users=4, spawn_rate=4, duration_s=3, warmup_s=1, processes=2, env=HEALTH_ONLY)
    result = run_load(spec, server, tmp_path)
    assert result.requests > 0
    assert result.failures == 0
    assert result.p50_ms <= result.p95_ms <= result.p99_ms
    assert len(list(result.raw_times_path.glob("times-*.tsv"))) == 2


def test_failed_requests_are_counted(server: str, tmp_path: Path) -> None:
    missing = {SCENARIO_ENV: "health", HEALTH_PATH_ENV: "/absent"}
    spec = LoadSpec(LOCUSTFILE, users=2, spawn_rate=2, duration_s=2, warmup_s=0, env=missing)
    result = run_load(spec, server, tmp_path)
    assert result.failures > 0
    assert result.failures == len(read_raw_times(result.raw_times_path))


def test_broken_locustfile_raises_naming_the_command_and_output(server: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken_locustfile.py"
    broken.write_text("raise RuntimeError('this locustfile cannot be imported')\n")
    with pytest.raises(HarnessError) as raised:
        run_load(LoadSpec(broken, users=1, duration_s=1, warmup_s=0), server, tmp_path / "out")
    message = str(raised.value)
    assert f"-m locust -f {RECORDER},{broken}" in message
    assert "this locustfile cannot be imported" in message
