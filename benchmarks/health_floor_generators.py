"""The `/health` floor of the API's container with one Locust process, two local workers, and one worker
container, interleaved (issue 16's "Must show"): throughput, who used which CPU, and the exactness checks.

    .venv/bin/python benchmarks/health_floor_generators.py --tag energy-optimization-api:NAME [--rounds 2]

Prints one JSON line per run. The container is pinned to CPU 0 and Locust to CPU 1 as in pyproject.toml, so
the two local workers share the second core here.
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory

from container_harness.build.timer import build_current
from container_harness.config import image_spec, load_config, load_pinning, load_spec, run_spec
from container_harness.engine import connect
from container_harness.load.bounded import bounded_run
from container_harness.load.container_workers import bridge_gateway
from container_harness.load.floor import health_floor_spec
from container_harness.load.latency import read_raw_times, summarize
from container_harness.ownership import new_session
from container_harness.run.container import start_container

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=15.0)
    args = parser.parse_args()
    config = load_config(ROOT, overrides={"tag": args.tag})
    session = new_session(connect())
    try:
        image = build_current(session, image_spec(config)).image_id
        run = run_spec(config, **load_pinning(config), host=bridge_gateway(session))
        spec = replace(
            health_floor_spec(load_spec(config), config.run.health_path),
            duration_s=args.duration,
            warmup_s=3.0,
            worker_wheels=ROOT / "wheelhouse" / "locust",
        )
        kinds = {
            "one process": replace(spec, processes=1),
            "two local workers": replace(spec, processes=2),
            "one worker container": replace(spec, processes=1, workers=1),
        }
        with start_container(session, image, run) as running, TemporaryDirectory() as tmp:
            for round_ in range(args.rounds):
                for kind, kind_spec in kinds.items():
                    out = Path(tmp) / f"{round_}-{kind.replace(' ', '-')}"
                    bounded = bounded_run(running, kind_spec, out, "health floor", locust_reports=True, engine=session)
                    result = bounded.result
                    with (out / "locust_stats.csv").open() as stats:
                        locust = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
                    again = summarize(read_raw_times(result.raw_times_path), kind_spec.warmup_s)
                    print(json.dumps({
                        "round": round_, "kind": kind, "rps": round(result.rps, 1),
                        "p50_ms": round(result.p50_ms, 3), "p99_ms": round(result.p99_ms, 3),
                        "container_cpu_percent": round(bounded.container_cpu_percent, 1),
                        "cpu_saturation": round(bounded.cpu_saturation, 3), "limited_by": bounded.limited_by,
                        "generators_needed": bounded.generators_needed,
                        "generator_cpu_percent": round(bounded.generator_cpu_percent, 1),
                        "master_cpu_percent": None if result.master_cpu_percent is None
                        else round(result.master_cpu_percent, 1),
                        "workers": {w.id: w.to_report() for w in result.workers},
                        "recorded": result.recorded, "locust_count": int(locust["Request Count"]),
                        "percentiles_exact": (again.p50_ms, again.p99_ms) == (result.p50_ms, result.p99_ms),
                        "machine_busy": None if bounded.host_busy is None else round(bounded.host_busy, 3),
                    }), flush=True)  # fmt: skip
    finally:
        session.cleanup()


if __name__ == "__main__":
    main()
