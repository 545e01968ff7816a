"""`container-harness ab` end to end: settle both images (given, or built from the working tree or a git ref),
run the rounds, clean up, and write the report, Markdown, picture, benchmark JSON and history line."""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from container_harness import __version__
from container_harness.build.timer import build_current
from container_harness.config import HarnessConfig, image_spec, load_config
from container_harness.engine import connect
from container_harness.gate.ab_result import AbResult, Role
from container_harness.gate.history import append_history, history_entry
from container_harness.image_ref import parse_image_ref
from container_harness.jobs.ab import Progress, plan_of, require_same_run_settings, run_ab
from container_harness.jobs.ab_ref import config_at, ref_checkout, repo_top
from container_harness.ownership import EngineSession, new_session
from container_harness.report.ab_render import ab_markdown, benchmark_entries, plot_rounds
from container_harness.report.commit import commit_sha


@dataclass(frozen=True)
class AbRequest:
    """What the command line asked for."""

    config_file: Path | None
    baseline: str | None
    baseline_ref: str | None
    baseline_config: Path | None
    candidate: str | None
    rounds: int | None
    threshold: float | None
    report: Path
    markdown: Path | None
    plot: Path | None
    benchmark_dir: Path | None
    history: Path | None
    keep: bool


def run_command(request: AbRequest, progress: Progress) -> AbResult:
    """Check the inputs, measure, write every output; the engine objects made on the way are removed."""
    config = load_config(Path.cwd(), request.config_file)
    if request.baseline_config is not None:
        require_same_run_settings(
            load_config(Path.cwd(), request.baseline_config), config, f"{request.baseline_config} against the config"
        )
    plan = plan_of(config, request.rounds, request.threshold)
    session = new_session(connect(), keep=request.keep)
    try:
        with ExitStack() as stack:
            baseline = request.baseline
            if request.baseline_ref is not None:
                baseline = _build_ref(stack, session, config, request, progress)
            candidate = request.candidate or _build(session, config, "candidate", progress)
            assert baseline is not None  # the parser requires --baseline or --baseline-ref
            result = run_ab(session, plan, baseline, candidate, request.report.parent / "ab", progress)
    finally:
        session.cleanup()
    write_outputs(result, request, config.root)
    return result


def write_outputs(result: AbResult, request: AbRequest, root: Path) -> dict[str, Any]:
    """report.json's `ab` section, Markdown, the per-round picture, benchmark JSON and a history line (with the
    commit of the checkout at root)."""
    ab = result.to_report()
    request.report.parent.mkdir(parents=True, exist_ok=True)
    request.report.write_text(json.dumps({"ab": ab}, indent=2) + "\n")
    markdown = request.markdown or request.report.with_suffix(".md")
    markdown.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text(ab_markdown(ab))
    plot_rounds(ab, request.plot or request.report.with_suffix(".png"))
    if request.benchmark_dir is not None:
        request.benchmark_dir.mkdir(parents=True, exist_ok=True)
        for tool, entries in benchmark_entries(ab).items():
            (request.benchmark_dir / f"{tool}.json").write_text(json.dumps(entries, indent=2) + "\n")
    if request.history is not None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        entry = history_entry(ab, sha=commit_sha(root) or "unknown", date=now, harness_version=__version__)
        append_history(request.history, entry)
    return ab


def ab_tag(tag: str, role: Role, session_id: str) -> str:
    """A tag of this run's own for a built side: `repo:tag` becomes `repo:tag-ab-<role>-<session>`."""
    ref = parse_image_ref(tag)
    return ref.with_tag(f"{ref.tag}-ab-{role}-{session_id}")


def _build(session: EngineSession, config: HarnessConfig, role: Role, progress: Progress) -> str:
    """Build a side with the config's build settings under a tag of this run (removed at the end)."""
    spec = replace(image_spec(config), tag=ab_tag(config.tag, role, session.id))
    progress(f"building the {role} from {spec.context} as {spec.tag}")
    build_current(session, spec)
    return session.session_tag(spec.tag)  # the run's own tag of what it built (see build_current)


def _build_ref(
    stack: ExitStack, session: EngineSession, config: HarnessConfig, request: AbRequest, progress: Progress
) -> str:
    """Build the baseline from a worktree of the ref, after checking that its run settings equal ours."""
    assert request.baseline_ref is not None
    top = repo_top(config.root)
    tree = stack.enter_context(ref_checkout(top, request.baseline_ref, config.ab.untracked_inputs))
    config_file = request.config_file or Path.cwd() / "pyproject.toml"
    build_config, run_config = config_at(config, config_file, top, tree)
    require_same_run_settings(run_config, config, f"{request.baseline_ref} against the working tree")
    return _build(session, build_config, "baseline", progress)
