"""A locustfile written without the harness gets exact percentiles per endpoint from the harness's recorder.

The tiny service (busybox httpd) serves a static file ("fast") and a CGI script that sleeps 30 ms ("slow").
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from container_harness.load.latency import read_raw_times
from container_harness.load.runner import LoadResult, run_load
from container_harness.ownership import EngineSession
from container_harness.specs import LoadSpec
from tests.container.conftest import FIXTURES, TINY

pytestmark = pytest.mark.container

LOCUSTFILE = FIXTURES / "locustfiles" / "two_endpoints.py"
WARMUP_S = 1.0


@pytest.fixture(scope="module")
def result(tiny_url: str, tmp_path_factory: pytest.TempPathFactory) -> LoadResult:
    """Two Locust processes, so the recorder's one-file-per-process design is exercised too."""
    spec = LoadSpec(LOCUSTFILE, users=4, spawn_rate=4, duration_s=4, warmup_s=WARMUP_S, processes=2)
    return run_load(spec, tiny_url, tmp_path_factory.mktemp("load"), locust_reports=True)


def test_per_endpoint_percentiles_equal_those_of_the_raw_times(result: LoadResult) -> None:
    records = read_raw_times(result.raw_times_path)
    window_start = min(record.start for record in records) + WARMUP_S
    assert set(result.endpoints) == {"fast", "slow"}
    for name, figures in result.endpoints.items():
        times = [r.response_ms for r in records if r.name == name and r.start >= window_start]
        assert figures.requests == len(times)
        for q in (50, 90, 95, 99):
            assert getattr(figures, f"p{q}_ms") == pytest.approx(numpy.percentile(times, q))
        assert figures.max_ms == max(times)
    assert sum(figures.requests for figures in result.endpoints.values()) == result.requests
    assert result.failures == 0


def test_the_slow_endpoint_is_slower_at_every_percentile(result: LoadResult) -> None:
    fast, slow = result.endpoints["fast"], result.endpoints["slow"]
    assert slow.p50_ms >= 30.0 > fast.p50_ms
    for q in (50, 90, 95, 99):
        assert getattr(slow, f"p{q}_ms") > getattr(fast, f"p{q}_ms")
    assert result.p50_ms < slow.p50_ms  # three fast requests for each slow one


def test_each_locust_process_writes_its_own_file_and_locusts_reports_are_kept(result: LoadResult) -> None:
    files = sorted(result.raw_times_path.glob("times-*.tsv"))
    assert len(files) == 2, files
    out = result.raw_times_path.parent
    assert (out / "locust_stats.csv").is_file()
    assert (out / "locust.html").is_file()


def test_a_paced_run_counts_latency_from_the_intended_start(tiny_url: str, tmp_path: Path) -> None:
    """One user asked for 60 req/s of a 30 ms endpoint falls ever further behind its schedule: measured from
    the intended start the latency grows far past 30 ms, while each response itself still takes about 30 ms."""
    locustfile = FIXTURES / "locustfiles" / "slow_only.py"
    paced = run_load(LoadSpec(locustfile, users=1, spawn_rate=1, duration_s=3, warmup_s=0.5, rate=60.0), tiny_url,
                     tmp_path / "paced")
    assert paced.rps < 45  # it cannot keep up: at most one request per ~30 ms
    assert paced.p50_ms > 200  # behind by more than a second half way through the run
    assert paced.max_ms > 1000
    gentle = run_load(LoadSpec(locustfile, users=1, spawn_rate=1, duration_s=3, warmup_s=0.5, rate=10.0), tiny_url,
                      tmp_path / "gentle")
    assert 8 < gentle.rps < 12  # the schedule replaced the locustfile's 0.5-1 s think time
    assert 30 <= gentle.p50_ms < 100


CURVE_CONFIG = """
dockerfile = "{tiny}/Dockerfile"
context = "{tiny}"
tag = "{tag}"
build_args = {{ BASE_IMAGE = "{base}" }}
[run]
port = 8080
health_path = "/healthz"
[load]
locustfile = "{locustfile}"
users = 4
duration_s = 2
warmup_s = 0.5
curve_fractions = [0.5, 1.0]
"""


def test_the_curve_command_measures_capacity_paced_rates_and_the_knee(
    tiny_base: tuple[EngineSession, str], tmp_path: Path
) -> None:
    session, base = tiny_base
    config = tmp_path / "harness.toml"
    tag = f"harness-test/tiny-curve:{session.id}"
    config.write_text(CURVE_CONFIG.format(tiny=TINY, tag=tag, base=base, locustfile=LOCUSTFILE))
    done = subprocess.run(
        [sys.executable, "-m", "container_harness", "curve", "--config", str(config), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    curve = json.loads((tmp_path / "curve.json").read_text())
    assert [point["fraction"] for point in curve["points"]] == [0.5, 1.0]
    half = curve["points"][0]
    assert half["offered_rps"] == pytest.approx(curve["capacity_rps"] / 2, rel=0.01)
    assert half["achieved_rps"] == pytest.approx(half["offered_rps"], rel=0.25)
    assert all(point["errors"] == 0 for point in curve["points"])
    assert curve["knee_rps"] in [point["offered_rps"] for point in curve["points"]]
    assert (tmp_path / "latency_curve.png").stat().st_size > 0
    assert "knee" in done.stdout
