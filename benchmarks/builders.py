"""Classic builder against BuildKit on one image: the harness's build figures beside the same builds run by
hand and timed with bash's `time`, median of interleaved rounds.

    python benchmarks/builders.py --tag energy-optimization-api:NAME [--rounds 3]

Defaults are the repository's [tool.harness] (Dockerfile.api on BuildKit, Dockerfile.api.classic on the
classic builder). Per round and builder: full (--no-cache), cached, code-change and dependency-change builds
through the harness (time_builds), then the same four by hand; the order of the builders alternates between
rounds. Hand-run classic builds are the CLI's legacy builder (DOCKER_BUILDKIT=0 docker build), hand-run
BuildKit builds `docker buildx build --load`. Prints a Markdown table; everything built is removed.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from container_harness.build.classic_log import parse_build_events
from container_harness.build.timer import BuildKind, changed_copy, time_builds, with_base_images
from container_harness.config import image_spec, load_config
from container_harness.engine import connect
from container_harness.ownership import EngineSession, new_session
from container_harness.specs import ImageSpec

ROOT = Path(__file__).resolve().parents[1]
KINDS: tuple[BuildKind, ...] = ("full", "cached", "code_change", "dependency_change")
_REAL = re.compile(r"^real\s+(?P<minutes>\d+)m(?P<seconds>[\d.]+)s$", re.MULTILINE)


def harness_round(session: EngineSession, spec: ImageSpec) -> dict[str, float]:
    """One harness run of the four builds, and the image's size."""
    timings = time_builds(session, spec)
    figures: dict[str, float] = {kind: getattr(timings, f"{kind}_s") for kind in KINDS}
    figures["size_bytes"] = session.client.images.get(timings.cached[0].image_id).attrs["Size"]
    return figures


def hand_round(session: EngineSession, spec: ImageSpec) -> dict[str, float]:
    """The same four builds through the docker CLI, each timed with bash's `time` (context copies untimed)."""
    figures: dict[str, float] = {}
    for kind in KINDS:
        with tempfile.TemporaryDirectory(prefix="builders-") as tmp:
            context = spec.context
            if kind in ("code_change", "dependency_change"):
                path = spec.code_change_path if kind == "code_change" else spec.dependency_change_path
                context = changed_copy(spec, kind, path or "", Path(tmp))
            dockerfile = context / spec.dockerfile.relative_to(spec.context)
            tag = f"{spec.tag}-hand-{uuid.uuid4().hex[:6]}"
            figures[kind] = _timed_cli(session, spec, dockerfile, context, tag, nocache=kind == "full")
            if kind == "cached":
                figures["size_bytes"] = session.client.images.get(tag).attrs["Size"]
    return figures


def _timed_cli(
    session: EngineSession, spec: ImageSpec, dockerfile: Path, context: Path, tag: str, nocache: bool
) -> float:
    """`time` one CLI build; its images are left to the session's cleanup."""
    args = [f"--build-arg {key}={value}" for key, value in spec.build_args.items()]
    args += ["--no-cache"] if nocache else []
    if spec.builder == "buildkit":
        labels = [f"--label {key}={value}" for key, value in session.labels().items()]
        build = f"docker buildx build --load --progress=plain {' '.join(labels)}"
    else:
        build = "DOCKER_BUILDKIT=0 docker build --force-rm"
    command = f"time {build} -f {dockerfile} -t {tag} {' '.join(args)} {context}"
    started = time.time()
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=True)
    session.note_buildkit_build(started, time.time())  # its cache records are pruned with the harness's
    session.track_image(tag)
    if spec.builder == "classic":
        for image_id in parse_build_events([(0.0, {"stream": done.stdout})]).created_ids:
            session.track_image(image_id)
    real = _REAL.search(done.stderr)
    if real is None:
        raise RuntimeError(f"no `real` line from `time`: {done.stderr[-500:]}")
    return int(real["minutes"]) * 60 + float(real["seconds"])


def table(results: dict[tuple[str, str], list[dict[str, float]]], rounds: int) -> str:
    """Markdown: per row, harness and hand medians per builder and whether they agree within 10 %."""
    lines = [
        f"| build (median of {rounds}) | classic: harness | classic: by hand | agree | "
        "BuildKit: harness | BuildKit: by hand | agree |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in (*KINDS, "size_bytes"):
        cells = [row.replace("_", "-")]
        for builder in ("classic", "buildkit"):
            harness = statistics.median(r[row] for r in results[(builder, "harness")])
            hand = statistics.median(r[row] for r in results[(builder, "hand")])
            if row == "size_bytes":
                cells += [f"{harness / 1e6:.1f} MB", f"{hand / 1e6:.1f} MB", "yes" if harness == hand else "no"]
            else:
                gap = abs(harness - hand) / hand
                cells += [f"{harness:.2f} s", f"{hand:.2f} s", f"{'yes' if gap <= 0.10 else 'no'} ({gap:.0%})"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tag", required=True, help="a tag of your own; builds get suffixes of it")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--config", type=Path, help="harness TOML (default: [tool.harness] of pyproject.toml)")
    args = parser.parse_args()
    config = load_config(ROOT, args.config)
    session = new_session(connect(), prune_build_cache=True)
    base = replace(image_spec(config), tag=args.tag)
    specs = {
        "buildkit": replace(base, builder="buildkit"),
        "classic": replace(base, builder="classic", dockerfile=base.classic_dockerfile or base.dockerfile),
    }
    results: dict[tuple[str, str], list[dict[str, float]]] = {
        (builder, way): [] for builder in specs for way in ("harness", "hand")
    }
    try:
        for number in range(args.rounds):
            order = ("classic", "buildkit") if number % 2 == 0 else ("buildkit", "classic")
            for builder in order:
                spec = with_base_images(session, specs[builder])
                results[(builder, "harness")].append(harness_round(session, spec))
                results[(builder, "hand")].append(hand_round(session, spec))
                print(f"round {number + 1} {builder}: {results[(builder, 'harness')][-1]} "
                      f"by hand {results[(builder, 'hand')][-1]}", flush=True)  # fmt: skip
    finally:
        print(session.cleanup(), flush=True)
    print(table(results, args.rounds))


if __name__ == "__main__":
    main()
