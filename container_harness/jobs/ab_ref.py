"""The A/B's baseline built from a git ref: a detached `git worktree` of that commit in a temporary folder,
built with the candidate's build settings, removed afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from container_harness.config import HarnessConfig, load_config
from container_harness.errors import AbInputError


@contextmanager
def ref_checkout(repo: Path, ref: str, untracked_inputs: Sequence[str] = ()) -> Iterator[Path]:
    """A checkout of `ref` (the repository's top level) that lives for the with-block.

    untracked_inputs are paths, relative to the top level, that the build may use but git does not hold (a
    host-side wheelhouse): those present are hard-linked (or copied) from the current checkout into the ref's.
    """
    top = Path(_git(repo, "rev-parse", "--show-toplevel", doing=f"finding the git repository of {repo}"))
    commit = _resolve(top, ref)
    folder = Path(tempfile.mkdtemp(prefix="harness-ab-ref-"))
    tree = folder / "tree"
    try:
        _git(top, "worktree", "add", "--detach", "--quiet", str(tree), commit, doing=f"checking out {ref}")
        for relative in untracked_inputs:
            if (top / relative).exists():
                _link_tree(top / relative, tree / relative)
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(top), "worktree", "remove", "--force", str(tree)], capture_output=True, check=False
        )
        subprocess.run(["git", "-C", str(top), "worktree", "prune"], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def config_at(
    candidate: HarnessConfig, candidate_file: Path, top: Path, tree: Path
) -> tuple[HarnessConfig, HarnessConfig]:
    """(build config, run config) of the baseline in `tree`, a checkout of the repository at `top`.

    The build config is the candidate's with its root moved into the checkout: the same build settings. The
    run config is what the ref itself says in the same file (the candidate's when the ref has none), so
    run settings that changed between the commits are caught.
    """
    relative_root = candidate.root.resolve().relative_to(top.resolve())
    build = candidate.model_copy(update={"root": tree / relative_root})
    ref_file = tree / candidate_file.resolve().relative_to(top.resolve())
    if not ref_file.is_file():
        return build, build
    return build, load_config(ref_file.parent, ref_file if ref_file.name != "pyproject.toml" else None)


def repo_top(path: Path) -> Path:
    """The top level of the git repository holding path."""
    return Path(_git(path, "rev-parse", "--show-toplevel", doing=f"finding the git repository of {path}"))


def _resolve(top: Path, ref: str) -> str:
    """The commit a ref names; AbInputError when there is none."""
    found = subprocess.run(
        ["git", "-C", str(top), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise AbInputError(
            f"git ref {ref!r} names no commit in {top}",
            hint="pass a branch, tag or commit that exists (fetch it first in a shallow CI checkout)",
        )
    return found.stdout.strip()


def _git(cwd: Path, *args: str, doing: str) -> str:
    """Run git and return its stdout; AbInputError with git's own message when it fails."""
    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise AbInputError("git is not on PATH; --baseline-ref needs it") from exc
    if done.returncode != 0:
        raise AbInputError(f"git failed while {doing}: {done.stderr.strip()}")
    return done.stdout.strip()


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link a file or directory tree (copy where linking is refused)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, copy_function=_link_or_copy, dirs_exist_ok=True)
    else:
        _link_or_copy(str(source), str(target))


def _link_or_copy(source: str, target: str) -> None:
    """os.link, falling back to a copy across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
