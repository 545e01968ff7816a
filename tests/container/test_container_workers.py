"""Locust workers as containers on the engine, joined to a master on this host: their raw times come back
through the mounted directory, their figures land in the result, and a broken one is named with nothing left
behind (the image comes FROM the local base, Locust from wheels in the build context: nothing is pulled)."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy
import pytest

from container_harness.errors import LoadRunError
from container_harness.load.container_workers import bridge_gateway
from container_harness.load.latency import read_raw_times
from container_harness.load.runner import LoadResult, run_load
from container_harness.load.worker_image import worker_image
from container_harness.ownership import LABEL, EngineSession
from container_harness.run.container import start_container
from container_harness.specs import LoadSpec, RunSpec
from tests.container.conftest import FIXTURES

pytestmark = pytest.mark.container

ROOT = Path(__file__).resolve().parents[2]
WHEELS = ROOT / "wheelhouse" / "locust"
PROVIDER = str(ROOT / "scripts" / "provide_base_image.sh")
COMPOSE = ROOT / "deploy" / "locust-workers" / "compose.yaml"


@pytest.fixture(scope="module")
def gateway_url(tiny_base: tuple[EngineSession, str], tiny_load_image: str) -> Iterator[str]:
    """URL of a tiny service published on every interface and reached at the bridge gateway, as containers do."""
    session = tiny_base[0]
    spec = RunSpec(port=8080, health_path="/healthz", host=bridge_gateway(session))
    with start_container(session, tiny_load_image, spec) as running:
        yield running.url()


def _spec(locustfile: Path, **overrides: object) -> LoadSpec:
    fields: dict[str, object] = {
        "users": 2, "spawn_rate": 2, "duration_s": 3, "warmup_s": 0.5, "workers": 1, "join_timeout_s": 20,
        "worker_wheels": WHEELS, "worker_base_provider": PROVIDER, **overrides,
    }  # fmt: skip
    return LoadSpec(locustfile, **fields)  # type: ignore[arg-type]


def _workers_left(session: EngineSession) -> list[str]:
    containers = session.client.containers.list(all=True, filters={"label": f"{LABEL}={session.id}"})
    return [c.name for c in containers if c.name.startswith("harness-locust-")]


@pytest.fixture(scope="module")
def result(
    tiny_base: tuple[EngineSession, str], gateway_url: str, tmp_path_factory: pytest.TempPathFactory
) -> LoadResult:
    spec = _spec(FIXTURES / "locustfiles" / "two_endpoints.py")
    out = tmp_path_factory.mktemp("container-workers")
    return run_load(spec, gateway_url, out, locust_reports=True, engine=tiny_base[0])


def test_a_container_worker_counts_what_locust_counts_with_exact_percentiles(
    tiny_base: tuple[EngineSession, str], result: LoadResult
) -> None:
    with (result.raw_times_path.parent / "locust_stats.csv").open() as stats:
        aggregated = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    assert result.recorded == int(aggregated["Request Count"]) > 0
    records = read_raw_times(result.raw_times_path)
    window_start = min(record.start for record in records) + 0.5
    times = [record.response_ms for record in records if record.start >= window_start]
    assert result.requests == len(times)
    assert result.p95_ms == pytest.approx(numpy.percentile(times, 95), rel=1e-12)
    [worker] = result.workers
    assert worker.id == "c1"
    assert worker.requests == result.requests
    assert worker.cpu_percent > 1.0
    assert result.master_cpu_percent is not None
    assert _workers_left(tiny_base[0]) == []


@pytest.mark.parametrize(
    ("breakage", "message"),
    [("never_join:c1", r"worker\(s\) c1 never joined the master within 3 s"), ("die:c1", r"worker\(s\) c1 died")],
)
def test_a_broken_container_worker_is_named_and_removed(
    tiny_base: tuple[EngineSession, str], gateway_url: str, tmp_path: Path, breakage: str, message: str
) -> None:
    locustfile = tmp_path / "breaks_a_worker.py"
    shutil.copy(FIXTURES / "locustfiles" / "breaks_a_worker.py", locustfile)
    spec = _spec(locustfile, join_timeout_s=3, env={"BREAK_WORKER": breakage})
    with pytest.raises(LoadRunError, match=message):
        run_load(spec, gateway_url, tmp_path / "out", engine=tiny_base[0])
    assert _workers_left(tiny_base[0]) == []


def test_a_loopback_target_is_refused_for_container_workers(
    tiny_base: tuple[EngineSession, str], tmp_path: Path
) -> None:
    with pytest.raises(LoadRunError, match=r"cannot reach the service at http://127\.0\.0\.1:1"):
        run_load(_spec(FIXTURES / "locustfiles" / "one_path.py"), "http://127.0.0.1:1", tmp_path, engine=tiny_base[0])


def test_a_worker_from_the_deploy_compose_file_joins_the_master_by_address(
    tiny_base: tuple[EngineSession, str], gateway_url: str, tmp_path: Path
) -> None:
    """The compose file for workers on other hosts, run here (host network), joins a master listening on a
    given address and port; its raw times come back through the shared directory."""
    session = tiny_base[0]
    image = worker_image(session, WHEELS, PROVIDER)
    (tmp_path / "locust").mkdir()
    shutil.copy(FIXTURES / "locustfiles" / "one_path.py", tmp_path / "locust" / "locustfile.py")
    times = tmp_path / "out" / "times"
    times.mkdir(parents=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ, "HARNESS_WORKER_IMAGE": image, "MASTER_HOST": "127.0.0.1", "MASTER_PORT": str(port),
        "WORKER_ID": "r1", "LOCUST_DIR": str(tmp_path / "locust"), "TIMES_DIR": str(times),
    }  # fmt: skip
    compose = ["docker-compose", "-f", str(COMPOSE), "-p", f"harness-remote-{session.id}"]
    subprocess.run([*compose, "up", "-d"], env=env, check=True, capture_output=True, timeout=60)
    try:
        spec = _spec(
            FIXTURES / "locustfiles" / "one_path.py", workers=0, remote_workers=("r1",), master_bind="127.0.0.1",
            master_port=port,
        )  # fmt: skip
        result = run_load(spec, gateway_url, tmp_path / "out")
    finally:
        subprocess.run([*compose, "down", "-v"], env=env, check=True, capture_output=True, timeout=60)
    [worker] = result.workers
    assert worker.id == "r1"
    assert worker.requests == result.requests > 0
    assert worker.cpu_percent > 0
