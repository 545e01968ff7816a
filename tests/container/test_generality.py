"""The same plugin on another image, configured only through `--harness-config`, run in a child pytest.

tests/fixtures/tiny_service: busybox httpd on port 8080, health path /healthz, no Python, no ONNX; built by
the classic builder, and as Dockerfile.buildkit (cache and bind mounts, --chmod) through the buildx plugin.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest

from container_harness.engine import connect
from container_harness.ownership import LABEL
from tests.container.tiny_project import RUN_TABLES

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"
CHILD_TIMEOUT_S = 600

CONFIG = """
dockerfile = "{tiny}/{dockerfile}"
context = "{tiny}"
tag = "{tag}"
builder = "{builder}"
prune_build_cache = true
base_provider = "sh {tiny}/provide_base.sh"
code_change_path = "app/www/index.html"
dependency_change_path = "start.sh"
start_repeats = 3
idle_seconds = 3
budgets = "budgets.toml"
report = "out/report.json"

[expect]
uid = 10001
ports = ["8080"]
healthcheck = {{ interval_s = 30, timeout_s = 3, start_period_s = 5, retries = 3 }}
files = ["/srv/www/index.html", "/srv/www/healthz", "/usr/local/bin/start.sh", "/data/source.json"]
absent_globs = ["*.key", "/srv/www/private*"]
"""

PASSING_BUDGETS = """
[[budget]]
name = "image.size_bytes"
max = 50_000_000
unit = "bytes"

[[budget]]
name = "build.code_change_s"
max = 60
unit = "s"

[[budget]]
name = "startup.ready_median_s"
max = 10
unit = "s"

[[budget]]
name = "memory.idle_bytes"
max = 100_000_000
unit = "bytes"

[[budget]]
name = "cpu.idle_percent"
max = 10
unit = "%"
"""

FAILING_BUDGETS = """
[[budget]]
name = "image.size_bytes"
max = 1
unit = "bytes"

[[budget]]
name = "memory.idle_bytes"
max = 100_000_000
unit = "bytes"
"""

def _project(
    pytester: pytest.Pytester, budgets: str, dockerfile: str = "Dockerfile", builder: str = "classic"
) -> tuple[Path, str]:
    """A throw-away project: the config, its budgets and a volume directory; no test file (the plugin collects)."""
    tag = f"harness-generality/tiny:{secrets.token_hex(4)}"
    config = pytester.path / "harness.toml"
    tables = RUN_TABLES + 'default_json = { source = "embedded" }\n'  # the last table is [volume]
    config.write_text(CONFIG.format(tiny=TINY, tag=tag, dockerfile=dockerfile, builder=builder) + tables)
    (pytester.path / "budgets.toml").write_text(budgets)
    external = pytester.path / "external"
    external.mkdir()
    external.chmod(0o755)
    (external / "source.json").write_text('{"source": "external"}')
    (external / "source.json").chmod(0o644)
    return config, tag


def _report(pytester: pytest.Pytester) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((pytester.path / "out" / "report.json").read_text())
    return report


def _assert_nothing_left(session_id: str, tag: str) -> None:
    client = connect()
    label = {"label": f"{LABEL}={session_id}"}
    containers = [(c.name, c.status) for c in client.containers.list(all=True, filters=label)]
    assert containers == [], f"containers of session {session_id} left: {containers}"
    assert client.volumes.list(filters=label) == []
    assert client.images.list(all=True, filters=label) == []
    assert not [t for image in client.images.list() for t in image.tags if t.startswith(tag)]


def _steps_rebuilt(report: dict[str, Any], kind: str) -> list[str]:
    """The instructions a rebuild of this kind ran instead of taking from the cache (FROM and ARG make no layer,
    so the classic builder never reports them cached)."""
    return [
        step["instruction"]
        for step in report["build"]["steps"]
        if step[f"{kind}_cached"] is False and not step["instruction"].startswith(("FROM", "ARG"))
    ]


@pytest.mark.container
def test_tiny_image_passes_every_check_and_budget(pytester: pytest.Pytester) -> None:
    config, tag = _project(pytester, PASSING_BUDGETS)
    result = pytester.runpytest_subprocess(
        "-m", "container", "--harness-config", str(config), "-p", "no:cacheprovider", timeout=CHILD_TIMEOUT_S
    )
    result.assert_outcomes(passed=19)
    result.stdout.fnmatch_lines(["*container harness*", "*harness budgets*", "*image.size_bytes*ok*"])
    report = _report(pytester)
    assert report["build"]["builder"] == "classic"
    assert report["image"]["tag"] == tag
    # busybox:1.36 when the engine has it, else the provider's stand-in under its default tag.
    base = "busybox:1.36" if connect().images.list(name="busybox:1.36") else "local/busybox:stable"
    assert (report["build"]["base_image"], report["image"]["base_image"]) == (base, base)
    assert report["image"]["base_size_bytes"] > 0
    assert report["image"]["size_bytes"] < 50_000_000
    assert _steps_rebuilt(report, "cached") == []  # the cached rebuild took every step from the cache
    assert len(report["startup"]["ready_s"]) == 3
    assert report["volume"]["mounted_answer"] == {"source": "external"}
    assert report["volume"]["default_answer"] == {"source": "embedded"}
    assert report["memory"]["idle_bytes"] > 0
    assert [budget["ok"] for budget in report["budgets"]] == [True] * 5
    assert report["environment"]["engine"]["cpus"] >= 1
    assert (pytester.path / "out" / "report.md").read_text().startswith("## Container harness report")
    _assert_nothing_left(report["environment"]["session_id"], tag)


@pytest.mark.container
def test_buildkit_only_image_goes_through_the_plugin_by_configuration(pytester: pytest.Pytester) -> None:
    """Dockerfile.buildkit (which the classic builder rejects) with builder = "auto": BuildKit, per-step cache
    hits right, nothing left on the engine, the run's build cache records pruned."""
    config, tag = _project(pytester, PASSING_BUDGETS, dockerfile="Dockerfile.buildkit", builder="auto")
    before = {record["ID"] for record in connect().df()["BuildCache"] or []}
    result = pytester.runpytest_subprocess(
        "-m", "container", "--harness-config", str(config), "-p", "no:cacheprovider", timeout=CHILD_TIMEOUT_S
    )
    result.assert_outcomes(passed=19)
    report = _report(pytester)
    build = report["build"]
    assert build["builder"] == "buildkit"
    assert build["buildx_version"]
    assert build["buildkit_version"]
    assert build["exporter"]["full_s"] > 0
    assert build["context_transfer"]["full_s"] > 0
    assert [step["stage"] for step in build["steps"]] == ["stage-0"] * 5
    assert _steps_rebuilt(report, "cached") == []
    assert _steps_rebuilt(report, "code_change") == ["COPY --chown=10001:10001 --chmod=0644 app/www/ /srv/www/"]
    # start.sh is bind-mounted by the second RUN: that step and every one after it run again.
    assert [step.split(" ")[0] for step in _steps_rebuilt(report, "dependency_change")] == ["RUN", "COPY", "COPY"]
    assert build["dependency_change_s"] > 0
    _assert_nothing_left(report["environment"]["session_id"], tag)
    records = connect().df()["BuildCache"] or []
    left = [r["Description"] for r in records if r["ID"] not in before and "/var/cache/tiny" in r["Description"]]
    assert left == [], f"build cache records of the run left: {left}"


@pytest.mark.container
def test_without_the_buildx_plugin_auto_builds_the_classic_dockerfile(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine whose CLI lacks buildx (a `docker` first on PATH that refuses `buildx`, else the real one):
    builder = "auto" falls back to the classic builder and its classic_dockerfile."""
    config, _ = _project(pytester, PASSING_BUDGETS, dockerfile="Dockerfile.buildkit", builder="auto")
    fallback = f'builder = "auto"\nclassic_dockerfile = "{TINY}/Dockerfile"'
    config.write_text(config.read_text().replace('builder = "auto"', fallback))
    real_docker = shutil.which("docker")
    assert real_docker is not None
    shim = pytester.path / "bin" / "docker"
    shim.parent.mkdir()
    shim.write_text(
        f'#!/bin/sh\n[ "$1" = buildx ] && {{ echo "unknown command: docker buildx" >&2; exit 1; }}\n'
        f'exec {real_docker} "$@"\n'
    )
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    result = pytester.runpytest_subprocess(
        "-m", "container", "-k", "build and not budgets", "--harness-config", str(config), "-p", "no:cacheprovider",
        timeout=CHILD_TIMEOUT_S,
    )  # fmt: skip
    result.assert_outcomes(passed=4)
    build = _report(pytester)["build"]
    assert (build["builder"], build["buildx_version"]) == ("classic", None)
    assert build["steps"][2]["instruction"].startswith("RUN mkdir -p /srv/www")


@pytest.mark.container
def test_a_budget_over_its_limit_fails_the_run_naming_measured_and_limit(pytester: pytest.Pytester) -> None:
    config, tag = _project(pytester, FAILING_BUDGETS)
    result = pytester.runpytest_subprocess(
        "-m",
        "container",
        "-k",
        "image_size or budget",
        "--harness-config",
        str(config),
        "-p",
        "no:cacheprovider",
        timeout=CHILD_TIMEOUT_S,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*image.size_bytes: measured * MB (* bytes), limit <= 1 bytes: OVER BUDGET*",
            "*memory.idle_bytes was not measured*",
        ]
    )
    report = _report(pytester)
    assert [(b["name"], b["ok"], b["limit"]) for b in report["budgets"]] == [
        ("image.size_bytes", False, 1),
        ("memory.idle_bytes", False, 100_000_000),
    ]
    _assert_nothing_left(report["environment"]["session_id"], tag)


@pytest.mark.container
def test_a_run_that_measures_nothing_keeps_the_last_report(pytester: pytest.Pytester) -> None:
    config, _ = _project(pytester, PASSING_BUDGETS)
    pytester.makepyfile(
        test_engine_only="import pytest\n\n\n@pytest.mark.container\n"
        "def test_engine_answers(harness_session):\n    assert harness_session.client.ping()\n"
    )
    earlier = pytester.path / "out" / "report.json"
    earlier.parent.mkdir()
    earlier.write_text('{"image": {"size_bytes": 1}}')

    result = pytester.runpytest_subprocess(
        "test_engine_only.py", "--harness-config", str(config), "-p", "no:cacheprovider", timeout=120
    )

    result.assert_outcomes(passed=1)
    assert earlier.read_text() == '{"image": {"size_bytes": 1}}'
    assert not (pytester.path / "out" / "report.md").exists()
    assert "container harness" not in result.stdout.str()


@pytest.mark.container
def test_unreachable_engine_is_one_clear_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = _project(pytester, PASSING_BUDGETS)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{pytester.path}/no-such.sock")
    result = pytester.runpytest_subprocess(
        "-m", "container", "--harness-config", str(config), "-p", "no:cacheprovider", timeout=120
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert "cannot reach the Docker engine" in output
    assert "Traceback" not in output
    assert "During handling" not in output
    assert "skipped" not in output
