"""The load runner drives real Locust runs against a real HTTP server (the standard library's)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy
import pytest

from container_harness.errors import HarnessError
from container_harness.load.command import RECORDER
from container_harness.load.latency import read_raw_times
from container_harness.load.runner import run_load
from container_harness.specs import HEALTH_PATH_ENV, LoadSpec

pytestmark = pytest.mark.container

LOCUSTFILE = Path(__file__).resolve().parents[2] / "benchmarks" / "locustfile.py"
# The benchmark's locustfile in its health scenario: GETs of one path, no model metadata needed.
SCENARIO_ENV = "HARNESS_LOAD_SCENARIO"
HEALTH_ONLY = {SCENARIO_ENV: "health", HEALTH_PATH_ENV: "/"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m http.server` on a port the kernel picks at bind, serving an empty directory.

    The server prints its address once its socket listens, so that line is both the port and the event.
    """
    root = tmp_path_factory.mktemp("www")
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    listening = re.search(r" port (\d+) ", process.stdout.readline())
    assert listening, f"http.server exited with {process.wait()} before it listened"
    yield f"http://127.0.0.1:{listening[1]}"
    process.terminate()
    process.wait(timeout=10)


def test_run_measures_the_window_after_warmup(server: str, tmp_path: Path) -> None:
    spec = LoadSpec(LOCUSTFILE, users=4, spawn_rate=4, duration_s=3, warmup_s=1, cpuset="0", env=HEALTH_ONLY)
    result = run_load(spec, server, tmp_path)
    recorded = read_raw_times(result.raw_times_path)
    assert result.requests > 0
    assert result.failures == 0
    # The figures are the exact ones of what the locustfile recorded after the warm-up (numpy, not the harness).
    first = min(record.sent_at for record in recorded)
    measured = [record for record in recorded if record.sent_at >= first + spec.warmup_s]
    times = [record.response_ms for record in measured]
    assert result.requests == len(measured) < len(recorded)  # the warm-up's requests are left out
    assert (result.p50_ms, result.p95_ms, result.p99_ms) == pytest.approx(tuple(numpy.percentile(times, [50, 95, 99])))
    assert result.window_s == pytest.approx(max(record.sent_at for record in measured) - first - spec.warmup_s)
    assert 0 < result.window_s <= spec.duration_s
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
