"""One pinned wrk run and the figures of its RESULT line, shared by the benchmarks that drive wrk.

The RESULT line is printed by the `done` function of benchmarks/wrk_predict.lua (which wrk_mlserver.lua loads):
request count, rps, exact p50/p95/p99 from wrk's own histogram, max, non-2xx answers and socket errors.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Final

PREDICT_SCRIPT: Final[Path] = Path(__file__).resolve().parent / "wrk_predict.lua"


def run_wrk(
    url: str,
    *,
    cpuset: str,
    connections: int,
    seconds: float,
    script: Path = PREDICT_SCRIPT,
    delay_ms: float | None = None,
) -> dict[str, float]:
    """`wrk -t1` pinned to `cpuset` for `seconds`; `delay_ms` paces each connection (WRK_DELAY_MS)."""
    command = ["taskset", "-c", cpuset, "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s"]
    env = os.environ if delay_ms is None else {**os.environ, "WRK_DELAY_MS": f"{delay_ms:g}"}
    done = subprocess.run([*command, "-s", str(script), url], env=env, capture_output=True, text=True, check=True)
    line = next((line for line in done.stdout.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no RESULT line: {done.stdout}{done.stderr}")
    return {key: float(value) for key, value in (pair.split("=") for pair in line.split()[1:])}
