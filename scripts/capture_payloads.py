"""Capture the engine payloads the harness's pure modules are unit-tested on (build streams, stats, inspect).

Run once per engine version worth supporting: `python scripts/capture_payloads.py [--out DIR]`. Builds and runs
the tiny fixture image, labels what it creates and removes it again. Needs the base image provider to work.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker

from container_harness.build.buildkit import BuildxRequest, buildx_command
from container_harness.engine import connect
from container_harness.ownership import EngineSession, new_session

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny_service"
FAILING_DOCKERFILE = 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo preparing && echo "about to fail" >&2 && exit 3\n'
TWO_STAGE_DOCKERFILE = (
    "ARG BASE_IMAGE\nFROM ${BASE_IMAGE} AS prepare\nRUN echo made > /made && sleep 1\n"
    "FROM ${BASE_IMAGE}\nRUN echo other > /other\nCOPY --from=prepare /made /made\n"
)
WASTEFUL_DOCKERFILE = (
    "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
    "RUN mkdir -p /junk/sub && head -c 3000 /dev/zero > /junk/a && head -c 5000 /dev/zero > /junk/sub/b "
    "&& head -c 700 /dev/zero > /etc/motd\n"
    "RUN head -c 1100 /dev/zero > /etc/motd && rm /junk/a\n"
    "RUN rm -rf /junk\n"
)


def timed_build(session: EngineSession, context: Path, tag: str, base: str, nocache: bool) -> list[list[Any]]:
    """[seconds since the request, decoded chunk] for every event of one classic build."""
    start = time.monotonic()
    stream = session.client.api.build(
        path=str(context), tag=tag, buildargs={"BASE_IMAGE": base}, nocache=nocache, rm=True, forcerm=True,
        pull=False, decode=True,
    )
    events = [[round(time.monotonic() - start, 4), chunk] for chunk in stream]
    session.track_image(tag)
    return events


def buildkit_build(session: EngineSession, context: Path, dockerfile: Path, tag: str, base: str, nocache: bool) -> str:
    """The rawjson output (stderr) of one `docker buildx build`, as the harness reads it."""
    with tempfile.TemporaryDirectory() as tmp:
        request = BuildxRequest(
            dockerfile=dockerfile, context=context, tag=tag, build_args={"BASE_IMAGE": base}, target=None,
            labels=session.labels(), nocache=nocache,
        )
        command = buildx_command(request, Path(tmp) / "iid")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    session.track_image(tag)
    return done.stderr


def capture_buildkit(session: EngineSession, out: Path, tag: str, base: str) -> None:
    """BuildKit streams: the BuildKit-only tiny image without and with cache, after a code change, failing,
    and a two-stage build. The session's build cache records are pruned at cleanup."""
    dockerfile = TINY / "Dockerfile.buildkit"
    (out / "buildkit_uncached.txt").write_text(buildkit_build(session, TINY, dockerfile, tag, base, True))
    (out / "buildkit_cached.txt").write_text(buildkit_build(session, TINY, dockerfile, tag, base, False))
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "context"
        shutil.copytree(TINY, copy)
        with (copy / "app" / "www" / "index.html").open("a") as handle:
            handle.write("<!-- changed -->\n")
        changed = buildkit_build(session, copy, copy / "Dockerfile.buildkit", tag, base, False)
        (out / "buildkit_code_change.txt").write_text(changed)
        (Path(tmp) / "Dockerfile").write_text(FAILING_DOCKERFILE)
        failing = buildkit_build(session, Path(tmp), Path(tmp) / "Dockerfile", f"{tag}-fail", base, True)
        (out / "buildkit_failing.txt").write_text(failing)
        (Path(tmp) / "Dockerfile").write_text(TWO_STAGE_DOCKERFILE)
        two_stage = buildkit_build(session, Path(tmp), Path(tmp) / "Dockerfile", f"{tag}-two", base, True)
        (out / "buildkit_two_stage.txt").write_text(two_stage)
    print(f"wrote {out}/buildkit_*.txt")


def stats_payload(container: docker.models.containers.Container) -> dict[str, Any]:
    """One `container.stats(stream=False)` payload (the daemon fills precpu_stats from its previous sample)."""
    payload: dict[str, Any] = container.stats(stream=False)
    return payload


def layer_maps(client: docker.DockerClient, ref: str) -> list[dict[str, int | None]]:
    """Per layer (oldest first): path -> size, None for a whiteout, read from `docker save`."""
    with tempfile.TemporaryFile() as spool:
        for chunk in client.images.get(ref).save():
            spool.write(chunk)
        spool.seek(0)
        with tarfile.open(fileobj=spool) as outer:
            manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
            maps = []
            for layer in manifest[0]["Layers"]:
                entries: dict[str, int | None] = {}
                with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                    for member in inner:
                        head, _, name = member.name.rstrip("/").rpartition("/")
                        if name == ".wh..wh..opq":
                            continue
                        if name.startswith(".wh."):
                            entries["/" + "/".join(filter(None, [head, name[4:]]))] = None
                        else:
                            entries["/" + member.name.rstrip("/").removeprefix("./")] = member.size
                maps.append(entries)
    return maps


def write(out: Path, name: str, payload: Any) -> None:
    """Write one payload as indented JSON."""
    (out / name).write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out / name}")


def busy_loop(container: docker.models.containers.Container) -> Iterator[None]:
    """Keep one CPU busy inside the container while the caller samples."""
    container.exec_run(["sh", "-c", "timeout 8 sh -c 'while :; do :; done'"], detach=True)
    time.sleep(1)
    yield


def main() -> None:
    """Capture every payload into the output directory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "unit" / "container_harness" / "payloads")
    parser.add_argument("--buildkit-only", action="store_true", help="capture only the BuildKit streams")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    client = connect()
    session = new_session(client, prune_build_cache=True)
    base = subprocess.run([str(TINY / "provide_base.sh")], check=True, capture_output=True, text=True)
    base_tag = base.stdout.splitlines()[-1]
    tag = f"harness-capture/tiny:{session.id}"
    try:
        started = time.time()
        capture_buildkit(session, args.out, f"{tag}-buildkit", base_tag)
        session.note_buildkit_build(started, time.time())
        if args.buildkit_only:
            return
        write(args.out, "build_uncached.json", timed_build(session, TINY, tag, base_tag, nocache=True))
        write(args.out, "build_cached.json", timed_build(session, TINY, tag, base_tag, nocache=False))
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "Dockerfile").write_text(FAILING_DOCKERFILE)
            write(args.out, "build_failing.json", timed_build(session, Path(tmp), f"{tag}-fail", base_tag, True))
            (Path(tmp) / "Dockerfile").write_text(WASTEFUL_DOCKERFILE)
            timed_build(session, Path(tmp), f"{tag}-waste", base_tag, nocache=True)
        write(args.out, "layers_wasteful.json", layer_maps(client, f"{tag}-waste"))
        image = client.images.get(tag)
        write(args.out, "image_inspect.json", image.attrs)
        write(args.out, "image_history.json", image.history())
        container = client.containers.run(tag, detach=True, labels=session.labels())
        time.sleep(3)
        write(args.out, "stats_idle.json", stats_payload(container))
        for _ in busy_loop(container):
            write(args.out, "stats_busy.json", stats_payload(container))
        cli = subprocess.run(
            ["docker", "stats", "--no-stream", "--format", "{{json .}}", container.id],
            check=True, capture_output=True, text=True,
        )
        write(args.out, "docker_stats_cli.json", json.loads(cli.stdout))
    finally:
        print(session.cleanup())


if __name__ == "__main__":
    main()
