"""Runs Locust headless in a subprocess and turns its raw response times into load figures.

A subprocess, not the library: Locust monkey-patches the standard library with gevent on import, which
breaks inside a pytest process that has already imported urllib3 and the docker SDK (recursion on import).
Locust loads the harness's recorder (container_harness.load.recorder) beside the user's locustfile, so any
locustfile works: the recorder writes every request's raw time, the warm-up is cut from those by time, and
percentiles (overall and per request name) and rps are exact. With spec.processes above 1 it runs a master and
that many local workers (container_harness.load.distributed), merges their raw times, and reports each
worker's requests, rate and CPU, and the master's CPU.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from container_harness.errors import LoadRunError, format_tail
from container_harness.load.command import headless_options, locust_base, pinned
from container_harness.load.distributed import DistributedRun, run_distributed
from container_harness.load.latency import (
    PACED_RATE_ENV,
    RAW_TIMES_DIR_ENV,
    LoadStats,
    RawRequest,
    read_raw_times,
    summarize,
)
from container_harness.ownership import EngineSession
from container_harness.specs import LoadSpec

# Locust needs a few seconds beyond its run time to spawn, stop its users and exit.
_GRACE_S = 60.0


@dataclass(frozen=True)
class WorkerFigures:
    """One Locust worker's share of a run: its requests and rate in the measured window, its CPU (% of one
    core over the run) and the CPUs it was pinned to."""

    id: str
    cpuset: str | None
    requests: int
    rps: float
    cpu_percent: float

    def to_report(self) -> dict[str, float | int | str]:
        """JSON-ready figures."""
        return {
            "requests": self.requests,
            "rps": round(self.rps, 1),
            "cpu_percent": round(self.cpu_percent, 1),
            "cpuset": self.cpuset or "any",
        }


@dataclass(frozen=True)
class LoadResult(LoadStats):
    """What a run measured (LoadStats), with the run's users, pinning and where its raw times and log are;
    with local workers, each worker's figures and the master's CPU."""

    users: int
    cpuset: str | None
    raw_times_path: Path
    log_path: Path
    generator_cpu_percent: float  # Locust's CPU (every process) over the whole run, in % of one core
    recorded: int = 0  # every request the recorder saw, warm-up included (what Locust itself counts)
    workers: tuple[WorkerFigures, ...] = ()
    master_cpu_percent: float | None = None


_log = logging.getLogger(__name__)


def locust_command(spec: LoadSpec, host: str, reports_dir: Path | None = None) -> list[str]:
    """The command line of a one-process run: the recorder loaded with the locustfile; Locust's CSV and HTML
    reports in reports_dir when given; pinned with taskset when spec.cpuset is set."""
    return pinned([*locust_base(spec), *headless_options(spec, host, reports_dir), *spec.user_classes], spec.cpuset)


def run_load(
    spec: LoadSpec, host: str, out_dir: Path, locust_reports: bool = False, engine: EngineSession | None = None
) -> LoadResult:
    """Run Locust against host; raw times (times/), Locust's output and, with locust_reports, its CSV and
    HTML reports land in out_dir. Worker containers (spec.workers) are started in engine. Raises HarnessError."""
    if not spec.locustfile.is_file():
        raise LoadRunError(f"locustfile {spec.locustfile} does not exist; set the load locustfile")
    out_dir.mkdir(parents=True, exist_ok=True)
    raw_times = out_dir / "times"
    log_path = out_dir / "locust.log"
    # Emptied, not replaced: remote workers may have it mounted already (deploy/locust-workers).
    raw_times.mkdir(exist_ok=True)
    for stale in raw_times.iterdir():
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    env = {**os.environ, **spec.env, RAW_TIMES_DIR_ENV: str(raw_times)}
    if spec.rate is not None:
        env[PACED_RATE_ENV] = f"{spec.rate / spec.generators:.6f}"
    pace = "closed loop" if spec.rate is None else f"paced at {spec.rate:.1f} req/s"
    _log.info(
        "load run started: %s users, %s, %d process(es), for %s s against %s",
        spec.users, pace, spec.processes, spec.run_time_s, host,
    )
    reports = out_dir if locust_reports else None
    if spec.local_workers or spec.workers or spec.remote_workers:
        distributed = run_distributed(spec, host, env, out_dir, raw_times, reports, engine)
        returncode, generator_cpu_percent = distributed.returncode, distributed.cpu_percent
        command = [f"a Locust master with {spec.local_workers} local and {spec.workers} container workers"]
    else:
        command = locust_command(spec, host, reports)
        returncode, generator_cpu_percent = _run_single(command, env, log_path, spec.run_time_s + _GRACE_S)
        distributed = None
    records = read_raw_times(raw_times)
    # Exit code 1 is also Locust's answer to failed requests: those are counted from the raw times instead.
    if returncode not in (0, 1) or not records:
        raise _failure(command, log_path, f"exited with code {returncode} and recorded no requests")
    stats = summarize(records, spec.warmup_s)
    _log.info("load run ended: %d requests measured, %.1f req/s, p95 %.1f ms", stats.requests, stats.rps, stats.p95_ms)
    return LoadResult(
        **vars(stats),
        users=spec.users,
        cpuset=spec.cpuset,
        raw_times_path=raw_times,
        log_path=log_path,
        generator_cpu_percent=generator_cpu_percent,
        recorded=len(records),
        workers=() if distributed is None else _worker_figures(distributed, raw_times, records, stats, spec.warmup_s),
        master_cpu_percent=None if distributed is None else distributed.percent(distributed.master.cpu_s),
    )


def _run_single(command: list[str], env: dict[str, str], log_path: Path, timeout_s: float) -> tuple[int, float]:
    """Run one Locust process; its exit code and CPU (its rusage as this process's child, % of one core)."""
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with log_path.open("w") as log:
        try:
            finished = subprocess.run(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s, check=False
            )
        except FileNotFoundError as exc:
            raise LoadRunError(f"cannot run {' '.join(command)}: {exc}") from exc
        except subprocess.TimeoutExpired as exc:
            raise _failure(command, log_path, f"did not finish within {timeout_s:.0f} s") from exc
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    used_s = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    return finished.returncode, used_s / (time.monotonic() - started) * 100.0


def _worker_figures(
    run: DistributedRun, raw_times: Path, records: list[RawRequest], stats: LoadStats, warmup_s: float
) -> tuple[WorkerFigures, ...]:
    """Each worker's measured requests (from its own raw-times files, times-<id>-<pid>.tsv), rate and CPU."""
    window_start = min(record.sent_at for record in records) + warmup_s
    figures = []
    for worker in run.workers:
        mine = [record for path in raw_times.glob(f"times-{worker.id}-*.tsv") for record in read_raw_times(path)]
        measured = sum(1 for record in mine if record.sent_at >= window_start)
        figures.append(
            WorkerFigures(worker.id, worker.cpuset, measured, measured / stats.window_s, run.percent(worker.cpu_s))
        )
    return tuple(figures)


def _failure(command: list[str], log_path: Path, what: str) -> LoadRunError:
    """An error naming the command, what went wrong, Locust's last output lines and where the rest is."""
    lines = log_path.read_text(errors="replace").splitlines()[-20:] if log_path.is_file() else []
    return LoadRunError(
        f"locust {what}: {' '.join(command)}\n{format_tail(lines, 'last locust output')}\n"
        f"full output: {log_path}; is locust installed (the `load` extra) and does the locustfile import?"
    )
