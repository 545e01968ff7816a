"""Locust command lines: the recorder loaded beside the user's locustfile, pinned to CPUs with taskset.

A path, not an import, for the recorder: importing anything under locust here would monkey-patch the calling
process with gevent (see container_harness.load.runner).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from container_harness.errors import LoadRunError
from container_harness.specs import LoadSpec

RECORDER = Path(__file__).resolve().parent / "recorder.py"


def locust_base(spec: LoadSpec) -> list[str]:
    """`python -m locust -f recorder,locustfile` with the run's tags, quiet logging."""
    command = [sys.executable, "-m", "locust", "-f", f"{RECORDER},{spec.locustfile}", "--loglevel", "WARNING"]
    if spec.tags:
        command += ["--tags", *spec.tags]
    return command


def headless_options(spec: LoadSpec, host: str, reports_dir: Path | None) -> list[str]:
    """What a standalone run or a master is told: host, users, spawn rate, run time; Locust's CSV and HTML
    reports in reports_dir when given."""
    options = [
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
    ]
    if reports_dir is not None:
        options += ["--csv", str(reports_dir / "locust"), "--html", str(reports_dir / "locust.html")]
    return options


def pinned(command: list[str], cpuset: str | None) -> list[str]:
    """The command run under `taskset -c cpuset` (unchanged when cpuset is None); taskset execs it, so the
    process keeps the pid the caller sees."""
    if cpuset is None:
        return command
    taskset = shutil.which("taskset")
    if taskset is None:
        raise LoadRunError(
            f"cannot pin Locust to CPUs {cpuset}: taskset (util-linux) is not on PATH; "
            "install it or unset the load cpuset"
        )
    return [taskset, "-c", cpuset, *command]
