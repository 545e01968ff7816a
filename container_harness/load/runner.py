"""Runs Locust headless in a subprocess and turns its raw response times into load figures.

A subprocess, not the library: Locust monkey-patches the standard library with gevent on import, which
breaks inside a pytest process that has already imported urllib3 and the docker SDK (recursion on import).
The locustfile must append raw response times to the file named by RAW_TIMES_ENV (format in
container_harness.load.latency); the warm-up is cut from those by time, so percentiles and rps are exact.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from container_harness.errors import LoadRunError, format_tail
from container_harness.load.latency import read_raw_times, summarize
from container_harness.specs import LoadSpec

RAW_TIMES_ENV = "HARNESS_LOCUST_TIMES"
# Conventions a locustfile may follow so the harness can ask for the framework's floor: with SCENARIO_ENV set
# to "health" it sends only GETs of the path in HEALTH_PATH_ENV.
SCENARIO_ENV = "HARNESS_LOAD_SCENARIO"
HEALTH_PATH_ENV = "HARNESS_HEALTH_PATH"
# Locust needs a few seconds beyond its run time to spawn, stop its users and exit.
_GRACE_S = 60.0


@dataclass(frozen=True)
class LoadResult:
    """What a run measured; failures cover the whole run, the other figures the window after warm-up."""

    users: int
    duration_s: float
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    response_times_ms: list[float]
    cpuset: str | None
    raw_times_path: Path
    log_path: Path


def locust_command(spec: LoadSpec, host: str) -> list[str]:
    """The command line of a run (pinned with taskset when spec.cpuset is set)."""
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(spec.locustfile),
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


def run_load(spec: LoadSpec, host: str, out_dir: Path) -> LoadResult:
    """Run Locust against host; raw times and Locust's output land in out_dir. Raises HarnessError."""
    if not spec.locustfile.is_file():
        raise LoadRunError(f"locustfile {spec.locustfile} does not exist; set the load locustfile")
    out_dir.mkdir(parents=True, exist_ok=True)
    raw_times = out_dir / "locust_times.tsv"
    log_path = out_dir / "locust.log"
    raw_times.unlink(missing_ok=True)
    command = locust_command(spec, host)
    env = {**os.environ, **spec.env, RAW_TIMES_ENV: str(raw_times)}
    timeout_s = spec.run_time_s + _GRACE_S
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
    if finished.returncode not in (0, 1) or not raw_times.is_file() or raw_times.stat().st_size == 0:
        raise _failure(command, log_path, f"exited with code {finished.returncode} and recorded no requests")
    stats = summarize(read_raw_times(raw_times), spec.warmup_s)
    return LoadResult(
        users=spec.users,
        duration_s=stats.window_s,
        requests=stats.requests,
        failures=stats.failures,
        rps=stats.rps,
        p50_ms=stats.p50_ms,
        p95_ms=stats.p95_ms,
        p99_ms=stats.p99_ms,
        response_times_ms=stats.response_times_ms,
        cpuset=spec.cpuset,
        raw_times_path=raw_times,
        log_path=log_path,
    )


def _failure(command: list[str], log_path: Path, what: str) -> LoadRunError:
    """An error naming the command, what went wrong, Locust's last output lines and where the rest is."""
    lines = log_path.read_text(errors="replace").splitlines()[-20:] if log_path.is_file() else []
    return LoadRunError(
        f"locust {what}: {' '.join(command)}\n{format_tail(lines, 'last locust output')}\n"
        f"full output: {log_path}; is locust installed (the `load` extra) and does the locustfile import?"
    )
