"""A build context with a forgotten 100 MB virtualenv: the report shows what the build sent, and the summary
names the folder."""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

import pytest

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"
JUNK_BYTES = 100_000_000

CONFIG = """
checks = ["full_build", "cached_rebuild"]
tag = "harness-context/tiny:{token}"
builder = "classic"
base_provider = "sh {tiny}/provide_base.sh"
report = "out/report.json"

[run]
port = 8080
health_path = "/healthz"
"""

pytestmark = pytest.mark.container


def test_a_forgotten_venv_is_measured_and_named(pytester: pytest.Pytester) -> None:
    project = pytester.path
    shutil.copytree(TINY, project, dirs_exist_ok=True)
    junk = project / ".venv" / "lib"
    junk.mkdir(parents=True)
    with (junk / "libbig.so").open("wb") as big:
        big.truncate(JUNK_BYTES)
    (project / "harness.toml").write_text(CONFIG.format(token=secrets.token_hex(4), tiny=TINY))

    result = pytester.runpytest_subprocess(
        "--harness", "--harness-config", "harness.toml", "-p", "no:cacheprovider", timeout=300
    )

    result.assert_outcomes(passed=2)
    build = json.loads((project / "out" / "report.json").read_text())["build"]
    assert build["context_bytes"] > JUNK_BYTES
    assert build["context_suspicious"] == [{"path": ".venv", "bytes": JUNK_BYTES}]
    result.stdout.fnmatch_lines(["*note: the build context * sends .venv/ (100.0 MB)*add them to .dockerignore*"])
