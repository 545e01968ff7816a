"""Policies (non-root, HEALTHCHECK present): off by default a breach is a note and a green run; on, it fails
with the one configuration line that waives it. The image's facts come from a captured `docker image inspect`
with its USER and HEALTHCHECK taken out, as an everyday image has them."""

from __future__ import annotations

from pathlib import Path

import pytest

from container_harness.pytest_plugin.judgements import enforced, lacks_healthcheck, not_enforced, runs_as_root

EVERYDAY_IMAGE = """
import json
from pathlib import Path

import pytest

from container_harness.image.inspect import image_facts

PAYLOADS = Path({payloads!r})


@pytest.fixture(scope="session")
def built_image():
    attrs = json.loads((PAYLOADS / "image_inspect.json").read_text())
    attrs["Config"].pop("User")
    attrs["Config"].pop("Healthcheck")
    history = json.loads((PAYLOADS / "image_history.json").read_text())
    return image_facts("everyday/app:test", attrs, history, None, None, 0)


@pytest.fixture
def start_container():
    def refuse(**overrides):
        raise AssertionError("no container should start for an image without a HEALTHCHECK")

    return refuse
"""

PYPROJECT = """
[tool.harness]
tag = "everyday/app:test"
report = "out/report.json"
[tool.harness.run]
port = 8080
{policy}
"""


def _run(pytester: pytest.Pytester, policy: str, *options: str) -> pytest.RunResult:
    pytester.makefile(".toml", pyproject=PYPROJECT.format(policy=policy))
    pytester.makeconftest(EVERYDAY_IMAGE.format(payloads=str(Path(__file__).parent / "payloads")))
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-rs", "--harness-checks", "image_config,docker_health", *options
    )  # fmt: skip


def test_root_users_are_found_in_every_spelling() -> None:
    for user in ("", "root", "0", "0:0", "root:staff", " root "):
        assert runs_as_root(user) is not None, user
    for user in ("app", "1000", "10001:10001", "nobody:root"):
        assert runs_as_root(user) is None, user


def test_a_missing_healthcheck_is_found() -> None:
    assert lacks_healthcheck("a:b", None) == "a:b declares no HEALTHCHECK, so Docker never reports it healthy: add one"
    assert lacks_healthcheck("a:b", {"interval_s": 30.0}) is None


def test_each_verdict_names_the_one_line_that_changes_it() -> None:
    assert enforced("it runs as root", "non_root").endswith("`[tool.harness.policy] non_root = false`")
    assert "`[tool.harness.policy] healthcheck = true` makes this a failure" in not_enforced("x", "healthcheck")


def test_an_everyday_image_passes_with_the_default_policies_and_the_findings_are_noted(
    pytester: pytest.Pytester,
) -> None:
    result = _run(pytester, "")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.stdout.str().count("HarnessNote:") == 2  # other warnings may join them in a long session
    result.stdout.fnmatch_lines(
        [
            "*HarnessNote: the image runs as root (USER '')*`[[]tool.harness.policy] non_root = true` makes this a*",
            "*SKIPPED*startup.healthy_s not measured: everyday/app:test declares no HEALTHCHECK*"
            "`[[]tool.harness.policy] healthcheck = true` makes this a failure*",
        ]
    )


def test_policies_that_are_on_fail_with_the_line_that_waives_them(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "[tool.harness.policy]\nnon_root = true\nhealthcheck = true")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*the image runs as root (USER '')*waive the policy with `[[]tool.harness.policy] non_root = false`*",
            "*declares no HEALTHCHECK*waive the policy with `[[]tool.harness.policy] healthcheck = false`*",
        ]
    )


def test_one_switch_makes_every_policy_note_fatal(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "", "-W", "error::container_harness.pytest_plugin.notes.HarnessNote")
    result.assert_outcomes(failed=2)
