"""Soak the API image at a paced load for N minutes; write per-minute memory and latency, a picture, a verdict.

    .venv/bin/python benchmarks/soak.py energy-optimization-api:TAG [--minutes 10] [--connections 10]
        [--delay-ms 6] [--out reports/soak]

The container runs pinned to CPU 0 with one worker, wrk (benchmarks/wrk_predict.lua, paced by WRK_DELAY_MS)
pinned to CPU 1 against the container's bridge IP (no port proxy). Pick --delay-ms so that the rate is about
half of what benchmarks/overload.sh measured at 10 connections. Each minute is one wrk run: its exact
p50/p95/p99, then the container's memory (usage minus inactive file cache, as `docker stats` shows it).
Verdict: memory slope under 1 MiB per minute (least squares over minutes 2..N: the first minute warms up)
and p99 of the last minute within 20 % of the first. The container is removed at the end.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
import urllib.request
from pathlib import Path

import docker
import matplotlib
from wrk_runs import run_wrk  # benchmarks/wrk_runs.py, beside this script

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after choosing the headless backend

HERE = Path(__file__).resolve().parent
MAX_SLOPE_MIB_PER_MIN = 1.0
MAX_P99_DRIFT = 0.20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--delay-ms", type=float, default=6.0)
    parser.add_argument("--out", type=Path, default=Path("reports/soak"))
    args = parser.parse_args()
    if args.minutes < 2:
        parser.error("--minutes must be at least 2: the slope needs two minutes")
    args.out.mkdir(parents=True, exist_ok=True)
    client = docker.from_env()
    container = client.containers.run(
        args.image, detach=True, cpuset_cpus="0", environment={"WEB_CONCURRENCY": "1"}, name=f"soak-{os.getpid()}"
    )
    try:
        container.reload()
        url = f"http://{container.attrs['NetworkSettings']['IPAddress']}:8000"
        wait_healthy(url)
        rows = [soak_minute(container, url, minute, args) for minute in range(1, args.minutes + 1)]
    finally:
        container.remove(force=True)
    write(rows, args.out)
    return verdict(rows)


def wait_healthy(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{url}/health did not answer within {timeout_s} s")


def soak_minute(
    container: docker.models.containers.Container, url: str, minute: int, args: argparse.Namespace
) -> dict[str, float]:
    """One minute of paced wrk load, then the container's memory; returns the minute's row."""
    row: dict[str, float] = {"minute": minute}
    row.update(run_wrk(url, cpuset="1", connections=args.connections, seconds=60, delay_ms=args.delay_ms))
    memory = container.stats(stream=False)["memory_stats"]
    cache = memory.get("stats", {}).get("inactive_file", memory.get("stats", {}).get("total_inactive_file", 0))
    row["memory_mib"] = (memory["usage"] - cache) / 2**20
    print(", ".join(f"{key} {value:g}" for key, value in row.items()), flush=True)
    return row


def write(rows: list[dict[str, float]], out: Path) -> None:
    """soak.csv and soak.png (memory and p50/p99 per minute) under `out`."""
    with (out / "soak.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    minutes = [row["minute"] for row in rows]
    figure, (memory_axes, latency_axes) = plt.subplots(2, 1, sharex=True, figsize=(7, 5))
    memory_axes.plot(minutes, [row["memory_mib"] for row in rows], marker="o")
    memory_axes.set_ylabel("memory (MiB)")
    for key in ("p50_ms", "p99_ms"):
        latency_axes.plot(minutes, [row[key] for row in rows], marker="o", label=key.removesuffix("_ms"))
    latency_axes.set_ylabel("latency (ms)")
    latency_axes.set_xlabel("minute")
    latency_axes.legend()
    figure.suptitle(f"soak: {rows[0]['rps']:.0f}-{rows[-1]['rps']:.0f} req/s paced")
    figure.tight_layout()
    figure.savefig(out / "soak.png", dpi=100)


def verdict(rows: list[dict[str, float]]) -> int:
    """0 when the memory slope and the p99 drift are within bounds; prints both either way."""
    steady = rows[1:] if len(rows) > 2 else rows
    xs = [row["minute"] for row in steady]
    ys = [row["memory_mib"] for row in steady]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    drift = rows[-1]["p99_ms"] / rows[0]["p99_ms"] - 1
    ok = slope < MAX_SLOPE_MIB_PER_MIN and abs(drift) <= MAX_P99_DRIFT
    print(
        f"memory slope {slope:+.3f} MiB/min, p99 first {rows[0]['p99_ms']:.2f} ms last {rows[-1]['p99_ms']:.2f} ms "
        f"({drift:+.0%}): {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
