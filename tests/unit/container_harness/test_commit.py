"""The commit a run measured: the CI's variable, else the checkout's HEAD marked when dirty, else None."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from container_harness.report.commit import _CI_VARIABLES, commit_sha


@pytest.fixture(autouse=True)
def _outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in _CI_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def _git(repo: Path, *args: str) -> str:
    identity = ("-c", "user.name=harness", "-c", "user.email=harness@example.invalid")
    done = subprocess.run(["git", *identity, *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    checkout = tmp_path / "repo"
    checkout.mkdir()
    _git(checkout, "init", "--quiet")
    (checkout / "file.txt").write_text("one\n")
    _git(checkout, "add", "file.txt")
    _git(checkout, "commit", "--quiet", "-m", "one")
    return checkout


def test_a_ci_variable_names_the_commit(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI_COMMIT_SHA", "f" * 40)
    assert commit_sha(repo) == "f" * 40


def test_a_clean_checkout_gives_head_and_a_changed_one_is_marked_dirty(repo: Path) -> None:
    head = _git(repo, "rev-parse", "HEAD")
    assert commit_sha(repo) == head
    (repo / "file.txt").write_text("two\n")
    assert commit_sha(repo) == f"{head}-dirty"


def test_no_repository_or_no_git_gives_none(tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert commit_sha(outside) is None
    monkeypatch.setenv("PATH", str(outside))  # no git on the path
    assert commit_sha(repo) is None
