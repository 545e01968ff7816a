"""`container-harness ab` on the real engine: an identical pair, a slowed pair, and every bad input it refuses.

The subject is tests/fixtures/tiny_work (busybox httpd whose every request runs a shell loop of WORK
iterations, capped at a quarter CPU) with the fast settings of its harness.toml: 3 rounds of 3 s load runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from container_harness.build.timer import build_current
from container_harness.config import image_spec, load_config
from container_harness.engine import connect
from container_harness.jobs.ab_ref import config_at, ref_checkout, repo_top
from container_harness.ownership import EngineSession, new_session

pytestmark = pytest.mark.container

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny_work"
CONFIG = TINY / "harness.toml"
SLOW_WORK = "4000"  # four times the baseline's 1000 iterations: about 2.5 times the CPU per request


@pytest.fixture(scope="module")
def session() -> Iterator[EngineSession]:
    """An engine session of this module; everything it built is removed at the end."""
    own = new_session(connect())
    yield own
    own.cleanup()


@pytest.fixture(scope="module")
def images(session: EngineSession) -> dict[str, str]:
    """Tags: `base`, `twin` (the same image under a second tag) and `slow` (WORK four times as large)."""
    spec = image_spec(load_config(TINY, CONFIG))
    base = replace(spec, tag=f"harness-ab/tiny-work:base-{session.id}")
    slow = replace(spec, tag=f"harness-ab/tiny-work:slow-{session.id}", build_args={"WORK": SLOW_WORK})
    base_id = build_current(session, base).image_id
    slow_id = build_current(session, slow).image_id
    names = {"base": base.tag, "twin": f"harness-ab/tiny-work:twin-{session.id}", "slow": slow.tag}
    for role, image_id in (("base", base_id), ("twin", base_id), ("slow", slow_id)):
        session.client.images.get(image_id).tag(names[role])
        session.track_image(names[role])
    return names


def _ab(
    tmp_path: Path, *args: str | Path, config: Path = CONFIG
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    """Run `container-harness ab` with a config; its exit, output and the `ab` section (if written)."""
    report = tmp_path / "ab.json"
    run = subprocess.run(
        [sys.executable, "-m", "container_harness", "ab", "--config", str(config), "--report", str(report)]
        + [str(arg) for arg in args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    ab = json.loads(report.read_text())["ab"] if report.is_file() else None
    return run, ab


def _verdicts(ab: dict[str, Any]) -> dict[str, str]:
    return {name: figure["verdict"] for name, figure in {**ab["figures"], **ab["exact"]}.items()}


def _client_bound_throughput_is_inconclusive(ab: dict[str, Any], run: subprocess.CompletedProcess[str]) -> None:
    """When a load run was client-bound (a busy shared machine can starve Locust): exit 2, rps never `same`."""
    assert run.returncode == 2, run.stdout + run.stderr
    assert ab["figures"]["load.rps"]["verdict"] == "inconclusive"
    assert "bound by the client" in ab["figures"]["load.rps"]["note"]


def test_identical_pair_has_no_regression(images: dict[str, str], tmp_path: Path) -> None:
    run, ab = _ab(tmp_path, "--baseline", images["base"], "--candidate", images["twin"])
    assert ab is not None, run.stdout + run.stderr
    verdicts = _verdicts(ab)
    assert "regression" not in verdicts.values(), verdicts
    assert verdicts["image.size_bytes"] == "same"
    assert ab["exact"]["image.size_bytes"]["difference"] == 0
    assert ab["rounds"] == 3
    assert len(ab["figures"]["load.p95_ms"]["baseline_rounds"]) == 3
    if ab["client_bound"]:
        _client_bound_throughput_is_inconclusive(ab, run)
    else:
        assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "ab.md").read_text().startswith("### A/B ")
    assert (tmp_path / "ab.png").stat().st_size > 10_000


def test_slowed_pair_is_a_latency_regression(images: dict[str, str], tmp_path: Path) -> None:
    run, ab = _ab(tmp_path, "--baseline", images["base"], "--candidate", images["slow"])
    assert ab is not None, run.stdout + run.stderr
    verdicts = _verdicts(ab)
    assert {"regression"} & {verdicts["load.p50_ms"], verdicts["load.p95_ms"], verdicts["load.p99_ms"]}, verdicts
    assert ab["figures"]["load.p50_ms"]["ratio"] > 1.5
    if ab["client_bound"]:
        _client_bound_throughput_is_inconclusive(ab, run)
    else:
        assert run.returncode == 1, run.stdout + run.stderr
        assert verdicts["load.rps"] in ("regression", "inconclusive")
        assert "regression in" in run.stdout


def test_missing_image_exits_2_naming_it(images: dict[str, str], tmp_path: Path) -> None:
    run, ab = _ab(tmp_path, "--baseline", "harness-ab/absent:nowhere", "--candidate", images["base"])
    assert run.returncode == 2, run.stdout + run.stderr
    assert "baseline image harness-ab/absent:nowhere is not on the engine" in run.stderr
    assert ab is None


def test_ref_that_does_not_exist_exits_2(tmp_path: Path) -> None:
    run, _ = _ab(tmp_path, "--baseline-ref", "no-such-branch-anywhere", "--candidate", "unused:tag")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "git ref 'no-such-branch-anywhere' names no commit" in run.stderr


def test_differing_run_settings_exit_2_naming_each(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    text = CONFIG.read_text().replace("cpus = 0.25", "cpus = 1.0").replace("users = 8", "users = 2")
    other.write_text(text)
    run, _ = _ab(tmp_path, "--baseline", "a:b", "--candidate", "c:d", "--baseline-config", other)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "run settings differ" in run.stderr
    assert "run.cpus: baseline 1.0, candidate 0.25" in run.stderr
    assert "load.users: baseline 2, candidate 8" in run.stderr


def test_client_bound_load_exits_2_with_throughput_inconclusive(images: dict[str, str], tmp_path: Path) -> None:
    # No CPU cap, one user on a static file: the service idles and Locust sets the pace.
    relaxed = tmp_path / "relaxed.toml"
    text = CONFIG.read_text().replace("cpus = 0.25\n", "").replace('"/cgi-bin/work"', '"/healthz"')
    text = text.replace("users = 8\nspawn_rate = 8", "users = 1\nspawn_rate = 1").replace("rounds = 3", "rounds = 2")
    text = text.replace("load_duration_s = 3", "load_duration_s = 1").replace("idle_seconds = 1", "idle_seconds = 0.5")
    relaxed.write_text(text.replace('"../../../benchmarks/locustfile.py"', f'"{ROOT}/benchmarks/locustfile.py"'))
    run, ab = _ab(tmp_path, "--baseline", images["base"], "--candidate", images["twin"], config=relaxed)
    assert ab is not None, run.stdout + run.stderr
    assert ab["client_bound"], ab
    _client_bound_throughput_is_inconclusive(ab, run)


def test_ref_checkout_gives_the_commit_and_is_removed(tmp_path: Path) -> None:
    config = load_config(TINY, CONFIG)
    top = repo_top(TINY)
    with ref_checkout(top, "HEAD") as tree:
        assert (tree / "tests" / "fixtures" / "tiny_work" / "Dockerfile").is_file()
        build, run = config_at(config, CONFIG, top, tree)
        assert build.root == tree / "tests" / "fixtures" / "tiny_work"
        assert image_spec(build).dockerfile == tree / "tests" / "fixtures" / "tiny_work" / "Dockerfile"
        assert run.root == build.root
    assert not tree.exists()
    listed = subprocess.run(["git", "-C", str(top), "worktree", "list"], capture_output=True, text=True, check=True)
    assert str(tree) not in listed.stdout


def test_pytest_side_gives_one_test_per_figure(
    images: dict[str, str], pytester: pytest.Pytester, tmp_path: Path
) -> None:
    # The plugin builds the configured image (identical to `base`) and compares it in 2 rounds.
    # No test file: the plugin collects the A/B check, one item per figure.
    report = tmp_path / "out" / "report.json"
    result = pytester.runpytest_subprocess(
        "--harness-checks", "ab", "--harness-config", str(CONFIG),
        "--harness-tag", f"harness-ab/tiny-work:pytest-{images['base'][-12:]}",
        "--harness-report", str(report), "--harness-ab-baseline", images["base"], "--harness-ab-rounds", "2",
        "-p", "no:cacheprovider", timeout=600,
    )  # fmt: skip
    outcomes = result.parseoutcomes()
    ab = json.loads(report.read_text())["ab"]
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == len(ab["figures"]) + len(ab["exact"])
    assert ab["rounds"] == 2
    assert "regression" not in _verdicts(ab).values(), _verdicts(ab)
    if ab["client_bound"]:
        result.stdout.fnmatch_lines(["*load.rps: inconclusive*not comparable*"])
        assert outcomes.get("failed") == 1
    else:
        assert "failed" not in outcomes, result.stdout.str()
