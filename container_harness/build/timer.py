"""Time full, cached, code-change and dependency-change builds of an image, on BuildKit (through the buildx
plugin) or the classic builder, never pulling."""

from __future__ import annotations

import logging
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import requests
from docker.errors import DockerException
from docker.utils.build import exclude_paths

from container_harness.build.base_image import ensure_base_images
from container_harness.build.buildkit import (
    Builder,
    BuildxInfo,
    BuildxRequest,
    buildx_info,
    resolve_builder,
    run_buildx,
)
from container_harness.build.classic_log import parse_build_events
from container_harness.build.context import ContextSummary, read_ignore_file, summarize_context
from container_harness.build.dockerfile import final_base_image, read_dockerfile, stage_names
from container_harness.build.log import TAIL_LINES, BuildLog
from container_harness.errors import BuildError, ConfigError, format_tail
from container_harness.ownership import EngineSession
from container_harness.specs import ImageSpec

_log = logging.getLogger(__name__)
BuildKind = Literal["full", "cached", "code_change", "dependency_change"]
# git's test for a binary file: a NUL byte among its first 8,000 bytes.
_BINARY_SNIFF_BYTES = 8000


@dataclass(frozen=True)
class BuildRun:
    """One build: its kind, wall seconds (request to last event, context upload included), log, image id."""

    kind: BuildKind
    seconds: float
    log: BuildLog
    image_id: str


@dataclass
class BuildTimings:
    """Every timed build, the build args actually used, the base image the built stage rests on, and the
    builder (with buildx's and BuildKit's versions when it was BuildKit)."""

    full: list[BuildRun]
    cached: list[BuildRun]
    code_change: list[BuildRun]
    build_args: dict[str, str]
    base_image: str | None = None
    dependency_change: list[BuildRun] = field(default_factory=list)
    builder: Builder = "classic"
    versions: BuildxInfo | None = None
    context: ContextSummary | None = None  # what the builds sent

    @property
    def full_s(self) -> float:
        """Median seconds of the builds without cache."""
        return _median_seconds(self.full)

    @property
    def cached_s(self) -> float:
        """Median seconds of the rebuilds with nothing changed."""
        return _median_seconds(self.cached)

    @property
    def code_change_s(self) -> float:
        """Median seconds of the rebuilds after a code-only change."""
        return _median_seconds(self.code_change)

    @property
    def dependency_change_s(self) -> float:
        """Median seconds of the rebuilds after a dependency (lock or requirements file) change."""
        return _median_seconds(self.dependency_change)

    def to_report(self) -> dict[str, Any]:
        """Medians, per-step medians with cache hits per kind, BuildKit's phases per kind, every run's seconds."""
        kinds: dict[str, list[BuildRun]] = {
            "full": self.full,
            "cached": self.cached,
            "code_change": self.code_change,
            "dependency_change": self.dependency_change,
        }
        return {
            "builder": self.builder,
            "buildx_version": self.versions.buildx_version if self.versions else None,
            "buildkit_version": self.versions.buildkit_version if self.versions else None,
            **{f"{kind}_s": round(_median_seconds(runs), 4) if runs else None for kind, runs in kinds.items()},
            "exporter": _phase_medians(kinds, lambda log: log.exporter_s),
            "context_transfer": _phase_medians(kinds, lambda log: log.context_transfer_s),
            "steps": _step_rows(kinds),
            "runs": {kind: [round(run.seconds, 4) for run in runs] for kind, runs in kinds.items()},
            "build_args": dict(self.build_args),
            "base_image": self.base_image,
            **(self.context.to_report() if self.context else {}),
        }


def build_image(
    session: EngineSession,
    spec: ImageSpec,
    *,
    nocache: bool,
    kind: BuildKind,
    context: Path | None = None,
    tag: str | None = None,
) -> BuildRun:
    """Build once with the spec's builder and time it; BuildError names the failing step and the log's end.

    Both the tag and the image id are tracked, so an image a later build untags is still cleaned up;
    BuildKit's images also carry the session label (it costs no step there, unlike the classic builder).
    """
    builder = resolve_builder(spec.builder)
    if builder == "classic" and spec.classic_dockerfile is not None:
        spec = replace(spec, dockerfile=spec.classic_dockerfile)
    context = context or spec.context
    tag = tag or spec.tag
    dockerfile = _dockerfile_in(spec, context)
    _log.info("%s build of %s (%s builder, %s) started", kind, tag, builder, "no cache" if nocache else "cache")
    if builder == "buildkit":
        started = time.time()
        request = BuildxRequest(
            dockerfile=dockerfile,
            context=context,
            tag=tag,
            build_args=spec.build_args,
            target=spec.target,
            labels=session.labels(),
            nocache=nocache,
        )
        try:
            seconds, log = run_buildx(request, stage_names(read_dockerfile(dockerfile), spec.build_args))
        except BaseException:
            session.note_unfinished_build(tag)  # Ctrl-C, SIGTERM, a timeout: the engine may still export it
            raise
        finally:
            session.note_buildkit_build(started, time.time())
    else:
        seconds, log = _classic_build(session, spec, dockerfile, context, tag, nocache)
    _track_layers(session, log)
    if log.error is not None or log.image_id is None:
        tail = log.lines[-TAIL_LINES:]
        command = "docker buildx build" if builder == "buildkit" else "DOCKER_BUILDKIT=0 docker build"
        raise BuildError(
            f"{kind} build of {tag} from {spec.dockerfile} (context {context}, {builder} builder) failed at "
            f"{log.failing_step or 'an unknown step'}: {log.error or 'the engine reported no image id'}. "
            f"{format_tail(tail, 'Build log ends')}",
            step=log.failing_step,
            log_tail=tail,
            hint=f"reproduce it with `{command} -f {spec.dockerfile} {context}`",
        )
    session.track_image(tag)
    session.track_image(log.image_id)
    executed = sum(1 for step in log.steps if not step.cached)
    _log.info("%s build of %s done in %.2f s: %d of %d steps ran", kind, tag, seconds, executed, len(log.steps))
    return BuildRun(kind=kind, seconds=seconds, log=log, image_id=log.image_id)


def _classic_build(
    session: EngineSession, spec: ImageSpec, dockerfile: Path, context: Path, tag: str, nocache: bool
) -> tuple[float, BuildLog]:
    """One build through docker-py's build API (the classic builder): wall seconds and the parsed log."""
    events: list[tuple[float, dict[str, Any]]] = []
    start = time.monotonic()
    try:
        stream = session.client.api.build(
            path=str(context),
            dockerfile=str(dockerfile),
            tag=tag,
            buildargs=spec.build_args,
            target=spec.target,
            nocache=nocache,
            pull=False,
            rm=True,
            forcerm=True,
            decode=True,
        )
        for chunk in stream:
            events.append((time.monotonic() - start, chunk))
    except (DockerException, requests.RequestException) as exc:
        events.append((time.monotonic() - start, {"error": str(exc)}))
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM): the layers committed so far are this run's to remove.
        _track_layers(session, parse_build_events(events))
        raise
    return time.monotonic() - start, parse_build_events(events)


def _track_layers(session: EngineSession, log: BuildLog) -> None:
    """The images a build made for its steps: the engine's build cache, shared with other runs."""
    for image_id in log.created_ids:
        session.track_image(image_id, cache=True)


def with_base_images(session: EngineSession, spec: ImageSpec) -> ImageSpec:
    """The spec with its build args pointing at base images on the engine (the provider runs if one is missing)."""
    build_args = ensure_base_images(session.client, spec.dockerfile, spec.build_args, spec.base_provider, spec.context)
    return replace(spec, build_args=build_args)


def build_current(session: EngineSession, spec: ImageSpec) -> BuildRun:
    """Bring the image up to date with the context through the cache: tests of behaviour, not of builds, use it.

    Built under the run's own tag; `spec.tag` moves to it at clean-up when kept (see EngineSession.promote).
    """
    run = build_image(
        session, with_base_images(session, spec), nocache=False, kind="cached", tag=session.session_tag(spec.tag)
    )
    session.promote(spec.tag, run.image_id)
    return run


def time_builds(session: EngineSession, spec: ImageSpec, repeats: int = 1) -> BuildTimings:
    """Ensure the bases, then time `repeats` full (no cache), cached, code-change and dependency-change builds.

    A change appends unique blank lines (`unique_blank_lines`) to `code_change_path` (or
    `dependency_change_path`) in a temporary copy of the context (only the files .dockerignore lets through are
    copied); the user's tree is never touched. Every image gets the run's own tag (`session.session_tag`;
    changed ones `-code-change`, `-dependency-change`), so parallel runs with the same `spec.tag` never touch
    each other's; `spec.tag` moves to the cached build's image only at clean-up, and only when it is kept.
    """
    resolved = with_base_images(session, spec)
    builder = resolve_builder(spec.builder)
    base = final_base_image(read_dockerfile(spec.dockerfile), resolved.build_args, spec.target)
    own_tag = session.session_tag(spec.tag)
    full = [build_image(session, resolved, nocache=True, kind="full", tag=own_tag) for _ in range(repeats)]
    cached = [build_image(session, resolved, nocache=False, kind="cached", tag=own_tag) for _ in range(repeats)]
    session.promote(spec.tag, cached[-1].image_id)
    return BuildTimings(
        full=full,
        cached=cached,
        code_change=_changed_builds(session, resolved, "code_change", spec.code_change_path, repeats),
        dependency_change=_changed_builds(session, resolved, "dependency_change", spec.dependency_change_path, repeats),
        build_args=resolved.build_args,
        base_image=base.image if base else None,
        builder=builder,
        versions=buildx_info() if builder == "buildkit" else None,
        context=summarize_context(spec.context, spec.dockerfile),
    )


def _changed_builds(
    session: EngineSession, spec: ImageSpec, kind: BuildKind, path: str | None, repeats: int
) -> list[BuildRun]:
    """`repeats` cached builds of a context copy with `path` changed (none when no path is configured)."""
    runs: list[BuildRun] = []
    for _ in range(repeats if path is not None else 0):
        with tempfile.TemporaryDirectory(prefix="harness-context-") as tmp:
            copy = changed_copy(spec, kind, path or "", Path(tmp))
            tag = session.session_tag(spec.tag, f"-{kind.replace('_', '-')}")
            runs.append(build_image(session, spec, nocache=False, kind=kind, context=copy, tag=tag))
    return runs


def _dockerfile_in(spec: ImageSpec, context: Path) -> Path:
    """The Dockerfile to build `context` with (a copied context carries its own copy if it was inside)."""
    dockerfile = spec.dockerfile.resolve()
    original = spec.context.resolve()
    if context.resolve() != original and dockerfile.is_relative_to(original):
        return context / dockerfile.relative_to(original)
    return dockerfile


def changed_copy(spec: ImageSpec, kind: BuildKind, changed_path: str, into: Path) -> Path:
    """Copy what the build would send (per .dockerignore) into `into`; append unique blank lines to the changed
    text file (a newline first when it lacks a final one); a binary file is refused."""
    source = spec.context.resolve()
    ignore_file = source / ".dockerignore"
    patterns = read_ignore_file(source)
    dockerfile = spec.dockerfile.resolve()
    relative_dockerfile = str(dockerfile.relative_to(source)) if dockerfile.is_relative_to(source) else None
    for name in sorted(exclude_paths(str(source), patterns, dockerfile=relative_dockerfile)):
        src, dst = source / name, into / name
        if src.is_symlink() or not src.is_dir():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst, follow_symlinks=False)
        else:
            dst.mkdir(parents=True, exist_ok=True)
            shutil.copystat(src, dst)
    if ignore_file.is_file():
        shutil.copy2(ignore_file, into / ".dockerignore")
    target = into / changed_path
    if not target.is_file():
        raise ConfigError(
            f"{kind}_path {changed_path!r} is not a file of the build context {source} "
            "(or .dockerignore keeps it out)",
            hint=f"point {kind}_path at a file, relative to the context, that the image's build reads",
        )
    content = target.read_bytes()
    if b"\0" in content[:_BINARY_SNIFF_BYTES]:
        raise ConfigError(
            f"{kind}_path {changed_path!r} is a binary file: the harness changes text files only, since any "
            "byte appended to a binary format (a protobuf model, a gzip archive) can break the build that reads it",
            hint=f"point {kind}_path at a text file the build reads: a source file, a lock or requirements file",
        )
    newline = b"" if content.endswith(b"\n") or not content else b"\n"
    target.write_bytes(content + newline + unique_blank_lines())
    return into


def unique_blank_lines() -> bytes:
    """16 lines of 0 to 15 spaces, one per hex digit of a random 64-bit number: new content for the build cache
    that JSON, TOML, YAML, go.mod, go.sum, package.json, requirements files and source code all read as blank."""
    return b"".join(b" " * int(digit, 16) + b"\n" for digit in secrets.token_hex(8))


def _median_seconds(runs: list[BuildRun]) -> float:
    """Median wall seconds of some runs (0.0 when there are none)."""
    return statistics.median(run.seconds for run in runs) if runs else 0.0


def _step_rows(kinds: dict[str, list[BuildRun]]) -> list[dict[str, Any]]:
    """One row per step of the first build: per kind, the step's median seconds and whether the cache served it
    in every run (None for a kind never built)."""
    reference = next((runs[0].log.steps for runs in kinds.values() if runs), [])
    rows = []
    for step in reference:
        row: dict[str, Any] = {"number": step.number, "stage": step.stage, "instruction": step.instruction}
        for kind, runs in kinds.items():
            same = [s for run in runs for s in run.log.steps if s.number == step.number]
            row[f"{kind}_s"] = round(statistics.median(s.seconds for s in same), 4) if same else None
            row[f"{kind}_cached"] = all(s.cached for s in same) if same else None
        rows.append(row)
    return rows


def _phase_medians(
    kinds: dict[str, list[BuildRun]], phase: Callable[[BuildLog], float | None]
) -> dict[str, float] | None:
    """Per kind, the median seconds of one BuildKit phase (None when the builder does not report it)."""
    medians = {
        f"{kind}_s": round(statistics.median(values), 4)
        for kind, runs in kinds.items()
        if (values := [value for run in runs if (value := phase(run.log)) is not None])
    }
    return medians or None
