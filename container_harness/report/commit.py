"""The commit a run measured, for the report: the CI's variable when set, else `git rev-parse HEAD`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# GitHub Actions, GitLab CI, Jenkins (git plugin), Buildkite, CircleCI.
_CI_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "BUILDKITE_COMMIT", "CIRCLE_SHA1")


def commit_sha(root: Path) -> str | None:
    """The commit's SHA (with "-dirty" when the work tree has changes git tracks), or None outside a repository."""
    for variable in _CI_VARIABLES:
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=40", "--exclude=*"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if described.returncode != 0:
        return None
    return described.stdout.strip() or None
