"""Locust (through the harness) against wrk at the same concurrency on the same container, interleaved: how much
of the harness's load.p50_ms is the client's own time.

    .venv/bin/python benchmarks/locust_vs_wrk.py [--rounds 3] [--seconds 15] [--connections 10]

One container of the configured image, pinned as [tool.harness.load] says (CPU 0, one worker); per round wrk
(`apt-get install wrk`: one thread, pinned to the load CPU, POST /predict_onnx with the example request,
benchmarks/wrk_predict.lua) and the harness's Locust run (single predictions only, LOCUST_BATCH_SHARE=0, the
same users, CPU and URL), in alternating order. Prints one JSON line per run; everything is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

from wrk_runs import run_wrk  # benchmarks/wrk_runs.py, beside this script

from container_harness.build.timer import build_current
from container_harness.config import image_spec, load_config, load_pinning, load_spec, run_spec
from container_harness.engine import connect
from container_harness.load.bounded import bounded_run
from container_harness.ownership import new_session
from container_harness.run.container import RunningContainer, start_container
from container_harness.specs import LoadSpec

ROOT = Path(__file__).resolve().parents[1]


def _locust(running: RunningContainer, spec: LoadSpec, out: Path) -> dict[str, float]:
    """One harness load run of single predictions: its rps, exact p50/p95/p99 and what bounded it."""
    bounded = bounded_run(running, spec, out, "single predictions")
    result = bounded.result
    return {
        "rps": round(result.rps, 1),
        "p50_ms": result.p50_ms,
        "p95_ms": result.p95_ms,
        "p99_ms": result.p99_ms,
        "container_cpu_percent": round(bounded.container_cpu_percent, 1),
        "generator_cpu_percent": round(bounded.generator_cpu_percent, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()
    config = load_config(ROOT)
    load_cpus = config.load.locust_cpuset or "1"
    session = new_session(connect())
    try:
        spec = replace(image_spec(config), tag=f"{config.tag.partition(':')[0]}:locust-vs-wrk")
        image = build_current(session, spec).image_id
        run = run_spec(config, **load_pinning(config))
        single = load_spec(config, {"LOCUST_BATCH_SHARE": "0"})
        locust = replace(single, users=args.connections, duration_s=args.seconds, warmup_s=2.0)
        with start_container(session, image, run) as running, tempfile.TemporaryDirectory() as tmp:
            run_wrk(running.url(), cpuset=load_cpus, connections=args.connections, seconds=3)  # warm-up, not counted
            for round_ in range(args.rounds):
                tools = ("wrk", "locust") if round_ % 2 == 0 else ("locust", "wrk")
                for tool in tools:
                    if tool == "wrk":
                        figures = run_wrk(
                            running.url(), cpuset=load_cpus, connections=args.connections, seconds=args.seconds
                        )
                    else:
                        out = Path(tmp) / f"round{round_}"
                        figures = _locust(running, locust, out)
                    print(json.dumps({"round": round_, "tool": tool, **figures}), flush=True)
    finally:
        session.cleanup()


if __name__ == "__main__":
    main()
