"""Runs Locust headless in a subprocess and turns its raw response times into load figures.

A subprocess, not the library: Locust monkey-patches the standard library with gevent on import, which
breaks inside a pytest process that has already imported urllib3 and the docker SDK (recursion on import).
Locust loads the harness's recorder (container_harness.load.recorder) beside the user's locustfile, so any
locustfile works: the recorder writes every request's raw time, the warm-up is cut from those by time, and
percentiles (overall and per request name) and rps are exact.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from container_harness.errors import LoadRunError, format_tail
from container_harness.load.latency import (
    PACED_RATE_ENV,
    RAW_TIMES_DIR_ENV,
    LoadStats,
    read_raw_times,
    summarize,
)
from container_harness.specs import LoadSpec

# A path, not an import: importing anything under locust here would monkey-patch this process (see above).
RECORDER = Path(__file__).resolve().parent / "recorder.py"
# Conventions a locustfile may follow so the harness can ask for the framework's floor: with SCENARIO_ENV set
# to "health" it sends only GETs of the path in HEALTH_PATH_ENV.
SCENARIO_ENV = "HARNESS_LOAD_SCENARIO"
HEALTH_PATH_ENV = "HARNESS_HEALTH_PATH"
# Locust needs a few seconds beyond its run time to spawn, stop its users and exit.
_GRACE_S = 60.0


@dataclass(frozen=True)
class LoadResult(LoadStats):
    """What a run measured (LoadStats), with the run's users, pinning and where its raw times and log are."""

    users: int
    cpuset: str | None
    raw_times_path: Path
    log_path: Path
    generator_cpu_percent: float  # Locust's CPU (every process) over the whole run, in % of one core


_log = logging.getLogger(__name__)


def locust_command(spec: LoadSpec, host: str, reports_dir: Path | None = None) -> list[str]:
    """The command line of a run: the recorder loaded with the locustfile; Locust's CSV and HTML reports in
    reports_dir when given; pinned with taskset when spec.cpuset is set."""
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        f"{RECORDER},{spec.locustfile}",
        "--headless",
        "--host",
        host,
        "--users",
        str(spec.users),
        "--spawn-rate",
        f"{spec.spawn_rate:g}",
        "--run-time",
        f"{spec.run_time_s}s",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    if spec.processes != 1:
        command += ["--processes", str(spec.processes)]
    if spec.tags:
        command += ["--tags", *spec.tags]
    if reports_dir is not None:
        command += ["--csv", str(reports_dir / "locust"), "--html", str(reports_dir / "locust.html")]
    command += list(spec.user_classes)
    if spec.cpuset is not None:
        taskset = shutil.which("taskset")
        if taskset is None:
            raise LoadRunError(
                f"cannot pin Locust to CPUs {spec.cpuset}: taskset (util-linux) is not on PATH; "
                "install it or unset the load cpuset"
            )
        command = [taskset, "-c", spec.cpuset, *command]
    return command


def run_load(spec: LoadSpec, host: str, out_dir: Path, locust_reports: bool = False) -> LoadResult:
    """Run Locust against host; raw times (times/), Locust's output and, with locust_reports, its CSV and
    HTML reports land in out_dir. Raises HarnessError."""
    if not spec.locustfile.is_file():
        raise LoadRunError(f"locustfile {spec.locustfile} does not exist; set the load locustfile")
    out_dir.mkdir(parents=True, exist_ok=True)
    raw_times = out_dir / "times"
    log_path = out_dir / "locust.log"
    if raw_times.is_dir():
        shutil.rmtree(raw_times)
    raw_times.mkdir()
    command = locust_command(spec, host, out_dir if locust_reports else None)
    env = {**os.environ, **spec.env, RAW_TIMES_DIR_ENV: str(raw_times)}
    if spec.rate is not None:
        env[PACED_RATE_ENV] = f"{spec.rate / spec.processes:.6f}"
    timeout_s = spec.run_time_s + _GRACE_S
    pace = "closed loop" if spec.rate is None else f"paced at {spec.rate:.1f} req/s"
    _log.info("load run started: %s users, %s, for %s s against %s", spec.users, pace, spec.run_time_s, host)
    # Locust's own CPU: what its processes (workers included, reaped by it) used, as this process's children.
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
    # Exit code 1 is also Locust's answer to failed requests: those are counted from the raw times instead.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    generator_s = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    generator_cpu_percent = generator_s / (time.monotonic() - started) * 100.0
    records = read_raw_times(raw_times)
    if finished.returncode not in (0, 1) or not records:
        raise _failure(command, log_path, f"exited with code {finished.returncode} and recorded no requests")
    stats = summarize(records, spec.warmup_s)
    _log.info("load run ended: %d requests measured, %.1f req/s, p95 %.1f ms", stats.requests, stats.rps, stats.p95_ms)
    return LoadResult(
        **vars(stats),
        users=spec.users,
        cpuset=spec.cpuset,
        raw_times_path=raw_times,
        log_path=log_path,
        generator_cpu_percent=generator_cpu_percent,
    )


def _failure(command: list[str], log_path: Path, what: str) -> LoadRunError:
    """An error naming the command, what went wrong, Locust's last output lines and where the rest is."""
    lines = log_path.read_text(errors="replace").splitlines()[-20:] if log_path.is_file() else []
    return LoadRunError(
        f"locust {what}: {' '.join(command)}\n{format_tail(lines, 'last locust output')}\n"
        f"full output: {log_path}; is locust installed (the `load` extra) and does the locustfile import?"
    )
