"""Ctrl-C and SIGTERM in the middle of BuildKit builds: what the engine holds 15 s after the run has exited.

    python benchmarks/interrupt_builds.py [--wait-s 15] [--rows full-step,full-export,...]

A fresh project whose BuildKit Dockerfile takes more than 10 s without cache (two slow RUN steps, one with a
cache mount, and a 300 MB image to export) is run as `pytest -m container` in a child with the four build
checks. The child's group gets the signal at a chosen moment of one build: a step, or the export, of the
full, cached, code-change or dependency-change build (moments found from a first, uninterrupted run's own
report). The engine is then looked at `--wait-s` seconds after the child exited: anything with the child's
session label, any image of the project's repository. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker

from container_harness.ownership import LABEL

ROOT = Path(__file__).resolve().parents[1]
PROVIDER = f"sh {ROOT / 'tests' / 'fixtures' / 'tiny_service' / 'provide_base.sh'}"
DOCKERFILE = """ARG BASE_IMAGE=busybox:1.36
FROM ${BASE_IMAGE}
COPY deps.txt /deps.txt
RUN --mount=type=cache,target=/cache sh -c 'dd if=/dev/urandom of=/deps.bin bs=1M count=150 2>/dev/null; sleep 4'
COPY app/ /app/
RUN dd if=/dev/urandom of=/app.bin bs=1M count=150 2>/dev/null && sleep 3
"""
CONFIG = """checks = ["full_build", "cached_rebuild", "code_change_rebuild", "dependency_change_rebuild"]
dockerfile = "Dockerfile"
context = "."
tag = "{tag}"
builder = "buildkit"
base_provider = '{provider}'
code_change_path = "app/main.txt"
dependency_change_path = "deps.txt"
report = "out/report.json"

[run]
port = 8080
health_path = "/"
"""
CONFTEST = """
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def announce_session(harness_session):
    Path("session_id.txt").write_text(harness_session.id)
"""
# (build, where in it): the build is told by its buildx command line, the moment by seconds into it.
ROWS = {
    "full-step": ("full", "step"),
    "full-export": ("full", "export"),
    "cached": ("cached", "start"),
    "code-change-step": ("code_change", "step"),
    "code-change-export": ("code_change", "export"),
    "dependency-change-step": ("dependency_change", "step"),
    "dependency-change-export": ("dependency_change", "export"),
}


def write_project(folder: Path, tag: str) -> None:
    """The child project: Dockerfile, inputs, harness.toml and the conftest that names the session."""
    (folder / "app").mkdir()
    (folder / "app" / "main.txt").write_text("print('hello')\n")
    (folder / "deps.txt").write_text("busybox\n")
    (folder / "Dockerfile").write_text(DOCKERFILE)
    (folder / "harness.toml").write_text(CONFIG.format(tag=tag, provider=PROVIDER))
    (folder / "conftest.py").write_text(CONFTEST)


def start_child(folder: Path) -> subprocess.Popen[bytes]:
    """`pytest -m container` in the project, in its own process group with SIGINT at its default (Ctrl-C)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-m", "container", "--harness-config", "harness.toml", "-p", "no:cacheprovider"],  # noqa: E501
        cwd=folder,
        stdout=(folder / "child.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def buildx_of(kind: str, tag: str) -> bool:
    """Whether a `docker buildx build` of this kind of build of the project is running now."""
    repository = tag.split(":")[0]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = [word.decode() for word in cmdline.read_bytes().split(b"\0")]
        except OSError:
            continue
        if "buildx" not in words or "build" not in words:
            continue
        tags = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "--tag"]
        if not tags or not tags[0].startswith(repository):
            continue
        nocache = "--no-cache" in words
        changed = {"code_change": "-code-change", "dependency_change": "-dependency-change"}
        suffix = changed.get(kind)
        if kind == "full" and nocache:
            return True
        if kind == "cached" and not nocache and not any(mark in tags[0] for mark in changed.values()):
            return True
        if suffix is not None and suffix in tags[0]:
            return True
    return False


def moments(report: dict[str, Any]) -> dict[str, float]:
    """Seconds into each build at which its last step runs and its export runs, from an uninterrupted run."""
    build = report["build"]
    exporter = build.get("exporter") or {}
    found: dict[str, float] = {"cached:start": 0.0}
    for kind in ("full", "code_change", "dependency_change"):
        seconds = float(build[f"{kind}_s"])
        export = float(exporter.get(f"{kind}_s") or 1.0)
        found[f"{kind}:export"] = max(seconds - export * 0.6, 0.2)
        last = [row[f"{kind}_s"] for row in build["steps"] if row.get(f"{kind}_s")]
        found[f"{kind}:step"] = max(seconds - export - (last[-1] if last else 1.0) / 2, 0.2)
    return found


def engine_left(client: docker.DockerClient, session_id: str, tag: str, signalled: float) -> list[str]:
    """What the run left: objects with its session label, and images of the project's repository (with when
    the engine created each, from the signal at epoch seconds `signalled`)."""
    label = {"label": f"{LABEL}={session_id}"}
    left = [f"container {c.name}" for c in client.containers.list(all=True, filters=label)]
    left += [f"volume {v.name}" for v in client.volumes.list(filters=label)]
    left += [f"network {n.name}" for n in client.networks.list(filters=label)]
    repository = tag.split(":")[0]
    labelled = {image.id for image in client.images.list(all=True, filters=label)}
    for image in client.images.list(all=True):
        tags = [t for t in image.tags if t.startswith(repository)]
        if tags or image.id in labelled:
            made = datetime.fromisoformat(image.attrs["Created"][:26].rstrip("Z")).replace(tzinfo=UTC)
            age = made.timestamp() - signalled
            left.append(f"image {', '.join(tags) or image.short_id} (created {age:+.1f} s from the signal)")
    return sorted(left)


def run_row(client: docker.DockerClient, folder: Path, tag: str, row: str, at: dict[str, float], signum: int,
            wait_s: float) -> str:
    """One interrupted run and what stayed; a Markdown table row."""
    kind, where = ROWS[row]
    child = start_child(folder)
    try:
        deadline = time.monotonic() + 300
        while not buildx_of(kind, tag):
            if child.poll() is not None or time.monotonic() > deadline:
                return f"| {row} | {signal.Signals(signum).name} | never reached | | |"
            time.sleep(0.02)
        delay = at[f"{kind}:{where}"]
        time.sleep(delay)
        sent, signalled = time.monotonic(), time.time()
        os.killpg(child.pid, signum)
        code = child.wait(timeout=120)
        exited = time.monotonic() - sent
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    time.sleep(wait_s)
    session_id = (folder / "session_id.txt").read_text()
    left = engine_left(client, session_id, tag, signalled)
    name = signal.Signals(signum).name
    return f"| {row} ({delay:.1f} s in) | {name} | exit {code} after {exited:.1f} s | {', '.join(left) or 'nothing'} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wait-s", type=float, default=15.0, help="seconds after the child exits before looking")
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows, of: " + ", ".join(ROWS))
    parser.add_argument("--signals", default="SIGINT,SIGTERM")
    args = parser.parse_args()
    client = docker.from_env()
    with tempfile.TemporaryDirectory(prefix="interrupt-builds-") as tmp:
        folder = Path(tmp)
        tag = f"interrupt-builds-{secrets.token_hex(3)}:test"
        write_project(folder, tag)
        calibration = start_child(folder)
        if calibration.wait(timeout=600) != 0:
            sys.exit(f"the uninterrupted run failed:\n{(folder / 'child.log').read_text()[-3000:]}")
        at = moments(json.loads((folder / "out" / "report.json").read_text()))
        print(f"moments from the uninterrupted run: {at}", flush=True)
        print("| signal at | signal | pytest | left on the engine after the wait |\n|---|---|---|---|", flush=True)
        for row in args.rows.split(","):
            for name in args.signals.split(","):
                print(run_row(client, folder, tag, row, at, signal.Signals[name], args.wait_s), flush=True)


if __name__ == "__main__":
    main()
