"""One cause, one failure, fast: a service the harness cannot reach fails the start-up check within seconds,
naming the cause, and the checks that need a running container are skipped as blocked by it."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"
FAIL_WITHIN_S = 15.0

CONFIG = """
dockerfile = "{tiny}/Dockerfile"
context = "{tiny}"
tag = "harness-fail-fast/tiny:{token}"
base_provider = "sh {tiny}/provide_base.sh"
start_repeats = 2
idle_seconds = 1
report = "out/report.json"

[run]
port = {port}
health_path = "/healthz"
env = {{ BIND = "{bind}" }}
"""

pytestmark = pytest.mark.container


@pytest.mark.parametrize(
    ("port", "bind", "cause"),
    [
        (9999, "8080", "*ConfigError: run.port is 9999, but harness-fail-fast/tiny:* EXPOSEs 8080/tcp*"),
        (8080, "8081", "*nothing listens on port 8080; the container listens on 8081: set run.port*"),
        (8080, "127.0.0.1:8080", "*listens on 127.0.0.1:8080 only*bind it to 0.0.0.0*"),
    ],
    ids=["port-not-exposed", "listens-elsewhere", "loopback-only"],
)
def test_an_unreachable_service_fails_once_fast_and_blocks_the_rest(
    pytester: pytest.Pytester, port: int, bind: str, cause: str
) -> None:
    config = pytester.path / "harness.toml"
    config.write_text(CONFIG.format(tiny=TINY, token=secrets.token_hex(4), port=port, bind=bind))

    result = pytester.runpytest_subprocess(
        "-m", "container", "--harness-config", str(config), "-p", "no:cacheprovider", "-rfs",
        "--junitxml", "out/junit.xml", timeout=300,
    )  # fmt: skip

    result.assert_outcomes(passed=5, failed=1, skipped=2)
    result.stdout.fnmatch_lines(["*FAILED container-harness::startup*", cause])
    result.stdout.fnmatch_lines(["SKIPPED [[]2[]] *blocked by startup: *"])
    startup = next(
        case for case in ET.parse(pytester.path / "out" / "junit.xml").iter("testcase") if case.get("name") == "startup"
    )
    assert float(startup.get("time", "inf")) < FAIL_WITHIN_S
