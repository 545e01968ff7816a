"""Build through BuildKit with the buildx CLI plugin, run as a subprocess: docker-py cannot drive BuildKit
(it needs the gRPC session buildx speaks). buildx talks to the engine DOCKER_HOST (or the docker context) names.
"""

from __future__ import annotations

import functools
import re
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from container_harness.build.buildkit_log import parse_rawjson
from container_harness.build.log import TAIL_LINES, BuildLog
from container_harness.errors import BuildError, ConfigError, format_tail
from container_harness.process_group import run_group

Builder = Literal["buildkit", "classic"]
_PROBE_TIMEOUT_S = 30
_BUILD_TIMEOUT_S = 3600
_BUILDKIT_VERSION = re.compile(r"^BuildKit version:\s*(?P<version>\S+)", re.MULTILINE)


@dataclass(frozen=True)
class BuildxInfo:
    """The buildx plugin's version and the BuildKit version of the builder it uses."""

    buildx_version: str
    buildkit_version: str | None


@functools.cache
def buildx_info() -> BuildxInfo | None:
    """What `docker buildx version` and `docker buildx inspect` say; None when the plugin does not answer."""
    version = _run_quietly(["docker", "buildx", "version"])
    if version is None:
        return None
    words = version.split()
    inspect = _run_quietly(["docker", "buildx", "inspect"]) or ""
    found = _BUILDKIT_VERSION.search(inspect)
    return BuildxInfo(
        buildx_version=words[1] if len(words) > 1 else version.strip(),
        buildkit_version=found["version"] if found else None,
    )


def resolve_builder(choice: str) -> Builder:
    """The builder a configured `builder` means here: auto is BuildKit when the buildx plugin answers."""
    if choice == "classic":
        return "classic"
    if buildx_info() is not None:
        return "buildkit"
    if choice == "auto":
        return "classic"
    raise ConfigError(
        'builder = "buildkit" is configured, but `docker buildx version` fails: the buildx CLI plugin is '
        "missing. Install it (scripts/install_buildx.sh on Debian, docker/setup-buildx-action on GitHub's "
        'runners) or set builder = "auto" to fall back to the classic builder',
        hint="run `docker buildx version`; install the docker-buildx package",
    )


@dataclass(frozen=True)
class BuildxRequest:
    """One `docker buildx build`: what to build, how to tag and label it, and whether to skip the cache."""

    dockerfile: Path
    context: Path
    tag: str
    build_args: dict[str, str]
    target: str | None
    labels: dict[str, str]
    nocache: bool


def run_buildx(request: BuildxRequest, stage_order: Sequence[str]) -> tuple[float, BuildLog]:
    """One `docker buildx build --progress=rawjson --load`: wall seconds (process start to exit) and its log;
    BuildError when it runs longer than an hour.

    --pull=false resolves FROM images locally first; a missing one would still be pulled, so the caller
    checks the bases before building. The image id comes from --iidfile when the stream does not name it.
    """
    with tempfile.TemporaryDirectory(prefix="harness-buildx-") as tmp:
        iidfile = Path(tmp) / "iid"
        command = buildx_command(request, iidfile)
        start = time.monotonic()
        try:
            done = run_group(command, timeout_s=_BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
            tail = parse_rawjson(stderr, stage_order).lines[-TAIL_LINES:]
            raise BuildError(
                f"`docker buildx build` of {request.tag} ran longer than {_BUILD_TIMEOUT_S} s and was stopped. "
                f"{format_tail(tail, 'Build log ends')}",
                step=None,
                log_tail=tail,
                hint="run the build by hand to see where it hangs (a step waiting for input or the network?)",
            ) from None
        seconds = time.monotonic() - start
        log = parse_rawjson(done.stderr, stage_order)
        if done.returncode != 0 and log.error is None:
            log.error = f"`{' '.join(command[:3])}` exited with {done.returncode}"
        if log.error is None and log.image_id is None and iidfile.is_file():
            log.image_id = iidfile.read_text().strip() or None
    return seconds, log


def buildx_command(request: BuildxRequest, iidfile: Path) -> list[str]:
    """The `docker buildx build` command line of one build (rawjson progress on stderr, image loaded)."""
    command = [
        "docker", "buildx", "build", "--progress=rawjson", "--load", "--pull=false",
        "--file", str(request.dockerfile), "--tag", request.tag, "--iidfile", str(iidfile),
    ]  # fmt: skip
    command += [arg for key, value in request.labels.items() for arg in ("--label", f"{key}={value}")]
    command += [arg for key, value in request.build_args.items() for arg in ("--build-arg", f"{key}={value}")]
    command += ["--target", request.target] if request.target else []
    command += ["--no-cache"] if request.nocache else []
    return [*command, str(request.context)]


def _run_quietly(command: list[str]) -> str | None:
    """A probe's stdout, or None when it cannot run or fails."""
    try:
        done = run_group(command, timeout_s=_PROBE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None
