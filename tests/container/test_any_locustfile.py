"""A locustfile written without the harness gets exact percentiles per endpoint from the harness's recorder.

The tiny service (busybox httpd) serves a static file ("fast") and a CGI script that sleeps 30 ms ("slow").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy
import pytest

from container_harness.build.timer import build_current
from container_harness.engine import connect
from container_harness.load.latency import read_raw_times
from container_harness.load.runner import LoadResult, run_load
from container_harness.ownership import Session, new_session
from container_harness.run.container import start_container
from container_harness.specs import ImageSpec, LoadSpec, RunSpec

pytestmark = pytest.mark.container

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TINY = FIXTURES / "tiny_service"
LOCUSTFILE = FIXTURES / "locustfiles" / "two_endpoints.py"
WARMUP_S = 1.0


@pytest.fixture(scope="module")
def tiny_url() -> Iterator[str]:
    """URL of a running tiny service, built on a base of its own; everything is removed at the end."""
    session: Session = new_session(connect())
    try:
        base = f"harness-test/busybox:{session.id}"
        session.track_image(base)
        spec = ImageSpec(
            dockerfile=TINY / "Dockerfile",
            context=TINY,
            tag=f"harness-test/tiny-load:{session.id}",
            build_args={"BASE_IMAGE": base},
            base_provider=f'sh {TINY / "provide_base.sh"} "$HARNESS_BASE_IMAGE"',
        )
        image = build_current(session, spec).image_id
        with start_container(session, image, RunSpec(port=8080, health_path="/healthz")) as running:
            yield running.url()
    finally:
        session.cleanup()


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
