"""Sensitivity of the A/B gate (a benchmark, not a test): false alarms, detection rate and wall time.

    python benchmarks/ab_sensitivity.py --repeats 10 [--slowdowns 5,10,20] [--rounds N] [--out reports/ab-sensitivity]

1. Builds the API image from [tool.harness] (through the build cache) under a tag of its own.
2. Identical pair: that image under two tags, `container-harness ab` R times -> false-alarm rate (any
   `regression` verdict).
3. Calibration: the per-request CPU cost c = CPU used / rps of the baseline (one worker on one pinned CPU;
   CPU used = the saturation of its busiest second), medians over the identical runs.
4. For each slowdown p: a layer on top of the image (benchmarks/ab_slowdown/) burning p % of c of CPU after
   every prediction call; R A/B runs -> detection rate (`regression` on load.rps or load.p95_ms).
5. Wall time of every A/B run. Results: a JSON file and a Markdown table on stdout.

Everything it builds carries its own tags and is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from container_harness.build.timer import build_current, build_image
from container_harness.config import image_spec, load_config
from container_harness.engine import connect
from container_harness.gate.ab_result import INFORMATIONAL
from container_harness.ownership import EngineSession, new_session
from container_harness.specs import ImageSpec

ROOT = Path(__file__).resolve().parents[1]
SLOWDOWN = ROOT / "benchmarks" / "ab_slowdown"
DETECTED_ON = ("load.rps", "load.p95_ms")


def _ab(baseline: str, candidate: str, out: Path, rounds: int | None) -> dict[str, Any]:
    """One `container-harness ab` run; its `ab` section plus exit code and wall seconds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "container_harness", "ab", "--baseline", baseline, "--candidate", candidate]
    command += ["--report", str(out)] + (["--rounds", str(rounds)] if rounds else [])
    started = time.monotonic()
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if not out.is_file():
        raise SystemExit(f"ab wrote no report (exit {run.returncode}):\n{run.stderr[-3000:]}")
    ab: dict[str, Any] = json.loads(out.read_text())["ab"]
    verdicts = {name: figure["verdict"] for name, figure in {**ab["figures"], **ab["exact"]}.items()}
    print(f"  exit {run.returncode}, {wall:.0f} s, {verdicts}", file=sys.stderr)
    return {
        "exit": run.returncode,
        "wall_s": wall,
        "verdicts": verdicts,
        "figures": ab["figures"],
        "cpu_saturation": ab["cpu_saturation"],
    }


def _slowed(session: EngineSession, api: str, microseconds: int, tag: str) -> str:
    """The API image plus a layer burning `microseconds` of CPU per prediction call."""
    spec = ImageSpec(
        dockerfile=SLOWDOWN / "Dockerfile",
        context=SLOWDOWN,
        tag=tag,
        build_args={"API_IMAGE": api, "SLOWDOWN_US": str(microseconds)},
    )
    build_image(session, spec, nocache=False, kind="cached")
    return tag


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=10, help="A/B runs per pair (R)")
    parser.add_argument("--slowdowns", default="5,10,20", help="per-request CPU added, in %% (comma-separated)")
    parser.add_argument("--rounds", type=int, help="override [tool.harness.ab] rounds")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "ab-sensitivity")
    args = parser.parse_args()
    config = load_config(ROOT)
    session = new_session(connect())
    results: dict[str, Any] = {"repeats": args.repeats, "rounds": args.rounds or config.ab.rounds, "pairs": {}}
    try:
        api = f"{config.tag.partition(':')[0]}:ab-sens-{session.id}"
        image = session.client.images.get(build_current(session, replace(image_spec(config), tag=api)).image_id)
        twin = f"{api}-twin"
        for name in (api, twin):  # build_current leaves the image under the run's own tag until clean-up
            image.tag(name)
            session.track_image(name)
        print(f"identical pair {api} / {twin}, {args.repeats} runs", file=sys.stderr)
        identical = [_ab(api, twin, args.out / f"identical-{i}.json", args.rounds) for i in range(args.repeats)]
        results["pairs"]["identical"] = identical
        rps = statistics.median(run["figures"]["load.rps"]["baseline"] for run in identical)
        busy = statistics.median(value for run in identical for value in run["cpu_saturation"]["baseline"])
        cost_us = 1e6 * busy / rps
        results["calibration"] = {"baseline_rps": rps, "cpu_saturation": busy, "cpu_us_per_request": cost_us}
        for percent in (int(p) for p in args.slowdowns.split(",")):
            spin = round(cost_us * percent / 100)
            slowed = _slowed(session, api, spin, f"{api}-slow{percent}")
            print(f"+{percent} % ({spin} us per prediction), {args.repeats} runs", file=sys.stderr)
            results["pairs"][f"+{percent}%"] = [
                _ab(api, slowed, args.out / f"slow{percent}-{i}.json", args.rounds) for i in range(args.repeats)
            ]
    finally:
        session.cleanup()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(_table(results))
    return 0


def table_of(results_file: Path) -> str:
    """The Markdown table of an earlier run's results.json."""
    return _table(json.loads(results_file.read_text()))


def _table(results: dict[str, Any]) -> str:
    """Markdown: per pair, runs with any regression, runs with rps/p95 regression, exit codes, wall time."""
    lines = [
        f"rounds {results['rounds']}, calibration {results.get('calibration')}",
        "",
        "| pair | runs | any `regression` | `regression` on rps or p95 | client-bound (exit 2) | median wall |",
        "|---|---|---|---|---|---|",
    ]
    for name, runs in results["pairs"].items():
        anything = sum(
            any(verdict == "regression" and name not in INFORMATIONAL for name, verdict in run["verdicts"].items())
            for run in runs
        )
        detected = sum(any(run["verdicts"][f] == "regression" for f in DETECTED_ON) for run in runs)
        bound = sum(run["exit"] == 2 for run in runs)
        wall = statistics.median(run["wall_s"] for run in runs)
        lines.append(f"| {name} | {len(runs)} | {anything} | {detected} | {bound} | {wall:.0f} s |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
