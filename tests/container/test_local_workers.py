"""Local Locust workers against the tiny service: counts equal Locust's, percentiles exact over every worker's
raw times, per-worker figures in the result, and a worker that never joins or dies is named, with nothing left
running."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy
import pytest

from container_harness.errors import LoadRunError
from container_harness.load.bounded import bounded_run
from container_harness.load.latency import read_raw_times
from container_harness.load.runner import LoadResult, run_load
from container_harness.ownership import EngineSession
from container_harness.run.container import start_container
from container_harness.specs import AUTO_PROCESSES, LoadSpec, RunSpec
from tests.container.conftest import FIXTURES

pytestmark = pytest.mark.container

WARMUP_S = 1.0
LOAD_CPUS = ",".join(str(cpu) for cpu in sorted(os.sched_getaffinity(0)))


@pytest.fixture(scope="module")
def result(tiny_url: str, tmp_path_factory: pytest.TempPathFactory) -> LoadResult:
    spec = LoadSpec(
        FIXTURES / "locustfiles" / "two_endpoints.py",
        users=4,
        spawn_rate=4,
        duration_s=4,
        warmup_s=WARMUP_S,
        processes=2,
        cpuset=LOAD_CPUS,
    )
    return run_load(spec, tiny_url, tmp_path_factory.mktemp("workers"), locust_reports=True)


def test_the_request_count_equals_locusts_own(result: LoadResult) -> None:
    with (result.raw_times_path.parent / "locust_stats.csv").open() as stats:
        aggregated = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    assert result.recorded == int(aggregated["Request Count"]) > 0
    assert result.recorded == len(read_raw_times(result.raw_times_path))


def test_percentiles_are_exact_over_every_workers_raw_times(result: LoadResult) -> None:
    records = read_raw_times(result.raw_times_path)
    window_start = min(record.start for record in records) + WARMUP_S
    times = [record.response_ms for record in records if record.start >= window_start]
    assert result.requests == len(times)
    for q in (50, 90, 95, 99):
        assert getattr(result, f"p{q}_ms") == pytest.approx(numpy.percentile(times, q), rel=1e-12)
    assert result.max_ms == max(times)


def test_each_worker_has_its_own_requests_rate_cpu_and_cpu_pinning(result: LoadResult) -> None:
    assert [worker.id for worker in result.workers] == ["w1", "w2"]
    assert sum(worker.requests for worker in result.workers) == result.requests
    assert sum(worker.rps for worker in result.workers) == pytest.approx(result.rps)
    for worker in result.workers:
        assert worker.requests > 0, worker
        assert worker.cpu_percent > 1.0, worker
    cpus = sorted(os.sched_getaffinity(0))
    assert [worker.cpuset for worker in result.workers] == [str(cpus[0]), str(cpus[1 % len(cpus)])]
    assert result.master_cpu_percent is not None
    assert result.master_cpu_percent > 0
    total = result.master_cpu_percent + sum(worker.cpu_percent for worker in result.workers)
    assert result.generator_cpu_percent == pytest.approx(total)
    assert len(list(result.raw_times_path.glob("times-*.tsv"))) == 2


def _locust_processes_of(locustfile: Path) -> list[str]:
    """Pids of processes whose command line names this locustfile."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(locustfile).encode() in (proc / "cmdline").read_bytes():
                found.append(proc.name)
        except OSError:
            continue
    return found


@pytest.mark.parametrize(
    ("breakage", "message"),
    [("never_join:w2", "worker(s) w2 never joined the master within 3 s"), ("die:w2", "worker(s) w2 died mid-run")],
)
def test_a_broken_worker_is_named_and_nothing_is_left_running(
    tiny_url: str, tmp_path: Path, breakage: str, message: str
) -> None:
    locustfile = tmp_path / "breaks_a_worker.py"  # a path of this test's own, to find its processes by
    shutil.copy(FIXTURES / "locustfiles" / "breaks_a_worker.py", locustfile)
    spec = LoadSpec(
        locustfile, users=2, spawn_rate=2, duration_s=3, warmup_s=0.5, processes=2, join_timeout_s=3,
        env={"BREAK_WORKER": breakage},
    )  # fmt: skip
    with pytest.raises(LoadRunError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_load(spec, tiny_url, tmp_path / "out")
    assert _locust_processes_of(locustfile) == []


def test_auto_processes_adds_generators_while_the_busiest_is_over_its_share(
    tiny_base: tuple[EngineSession, str], tiny_load_image: str, tmp_path: Path
) -> None:
    """With a share of 2 % of a core any generator is over it, so "auto" tries one process, then more, up to as
    many as there are load CPUs, and the run uses that many."""
    spec = LoadSpec(
        FIXTURES / "locustfiles" / "one_path.py", users=2, spawn_rate=2, duration_s=2, warmup_s=0.5,
        processes=AUTO_PROCESSES, generator_share=0.02, cpuset=LOAD_CPUS,
    )  # fmt: skip
    with start_container(tiny_base[0], tiny_load_image, RunSpec(port=8080, health_path="/healthz")) as running:
        run = bounded_run(running, spec, tmp_path, "load-testing the tiny service")
    cpus = len(os.sched_getaffinity(0))
    assert run.processes == cpus
    assert (tmp_path / "auto-1" / "times").is_dir()
    assert run.load_cpus == cpus
    assert len(run.result.workers) == (cpus if cpus > 1 else 0)
