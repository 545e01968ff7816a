"""The engine-side harness modules on the real engine, with the tiny fixture image (busybox httpd)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests

from container_harness.build.timer import BuildTimings, time_builds
from container_harness.engine import connect
from container_harness.errors import ContainerExitedError
from container_harness.image.inspect import image_paths, inspect_image, matching
from container_harness.image.layer_waste import layer_maps, wasted_bytes
from container_harness.measure.usage_sampler import idle_stats
from container_harness.ownership import LABEL, EngineSession, new_session
from container_harness.run.container import start_container
from container_harness.specs import ImageSpec, RunSpec
from tests.container.engine_objects import handed_over, image_exists

pytestmark = pytest.mark.container

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"


@pytest.fixture(scope="module")
def session() -> Iterator[EngineSession]:
    """A labelled session whose objects are removed at the end, and proof that nothing is left."""
    client = connect()
    run = new_session(client)
    try:
        yield run
    finally:
        built, cache = list(run.built_images), list(run.cache_images)
        run.cleanup()
        _assert_nothing_left(client, run, built, cache)


def _assert_nothing_left(
    client: docker.DockerClient, run: EngineSession, built: list[str], cache: list[str]
) -> None:
    """Nothing of the session's is left, but the build cache it handed over to runs still live (this one's)."""
    label = {"label": f"{LABEL}={run.id}"}
    assert client.containers.list(all=True, filters=label) == []
    assert client.volumes.list(filters=label) == []
    assert client.networks.list(filters=label) == []
    left = [ref for ref in built if image_exists(client, ref)]
    assert left == [], f"images of session {run.id} left behind: {left}"
    kept = handed_over(client)
    assert [ref for ref in cache if image_exists(client, ref) and ref not in kept] == []


@pytest.fixture(scope="module")
def spec(session: EngineSession) -> ImageSpec:
    """The tiny image on a base of its own that only the provider can make (so the provider path runs), on
    the classic builder (test_buildkit_build.py covers BuildKit)."""
    base = f"harness-test/busybox:{session.id}"
    session.track_image(base)
    return ImageSpec(
        dockerfile=TINY / "Dockerfile",
        context=TINY,
        tag=f"harness-test/tiny:{session.id}",
        build_args={"BASE_IMAGE": base},
        code_change_path="app/www/index.html",
        base_provider=f'sh {TINY / "provide_base.sh"} "$HARNESS_BASE_IMAGE"',
        builder="classic",
    )


@pytest.fixture(scope="module")
def timings(session: EngineSession, spec: ImageSpec) -> BuildTimings:
    return time_builds(session, spec)


def test_cached_and_code_change_builds_are_faster_than_full(timings: BuildTimings) -> None:
    assert timings.cached_s < timings.full_s
    assert timings.code_change_s < timings.full_s
    assert timings.cached[0].log.cache_hits == 9
    assert timings.cached[0].image_id == timings.full[0].image_id


def test_code_change_reuses_the_dependency_steps(timings: BuildTimings) -> None:
    steps = {step.instruction.split(" ")[-1]: step for step in timings.code_change[0].log.steps}
    assert steps["/srv/www"].cached  # RUN mkdir ... && chown 10001:10001 /srv/www
    assert steps["/usr/local/bin/start.sh"].cached
    assert steps["/data/"].cached
    assert not steps["/srv/www/"].cached  # the code COPY sees the changed index.html
    assert timings.code_change[0].image_id != timings.full[0].image_id
    assert timings.to_report()["steps"][5]["code_change_cached"] is False


def test_inspect_image_size_equals_the_engines(
    session: EngineSession, spec: ImageSpec, timings: BuildTimings
) -> None:
    facts = inspect_image(session.client, session.session_tag(spec.tag), timings.base_image)
    engine_size = session.client.images.get(session.session_tag(spec.tag)).attrs["Size"]
    assert facts.size_bytes == engine_size
    assert facts.base_image == spec.build_args["BASE_IMAGE"]
    assert timings.build_args["BASE_IMAGE"] == facts.base_image
    assert facts.base_size_bytes == session.client.images.get(facts.base_image).attrs["Size"]
    assert facts.above_base_bytes == sum(layer.size_bytes for layer in facts.layers if not layer.from_base)
    assert facts.healthcheck is not None
    assert facts.healthcheck["interval_s"] == 30.0


def test_image_paths_prove_dockerignore_and_waste_is_none(
    session: EngineSession, spec: ImageSpec, timings: BuildTimings
) -> None:
    paths = image_paths(session.client, session.session_tag(spec.tag), labels=session.labels())
    assert {"/srv/www/index.html", "/data/source.json", "/usr/local/bin/start.sh"} <= paths
    assert matching(paths, ["**/*.key"]) == []
    assert wasted_bytes(layer_maps(session.client, session.session_tag(spec.tag))).total_bytes == 0


def test_start_until_ready_then_healthy_with_a_fast_interval(
    session: EngineSession, spec: ImageSpec, timings: BuildTimings
) -> None:
    run = RunSpec(port=8080, health_path="/healthz", health_interval_s=1.0, ready_timeout_s=20)
    with start_container(session, session.session_tag(spec.tag), run) as running:
        assert running.ready_s is not None
        assert 0 < running.ready_s < 10
        assert requests.get(running.url("/index.html"), timeout=5).status_code == 200
        healthy_s = running.wait_health("healthy", timeout_s=15)
        assert running.ready_s <= healthy_s < 10  # the image's own 30 s interval would take 30 s
        stats = idle_stats(running.container, seconds=3)
        assert stats.memory_bytes > 0
        assert len(stats.samples) >= 2
        assert 0 <= stats.cpu_percent < 50
        assert running.stop(timeout_s=1) in (0, 137, 143)  # httpd as PID 1 ignores SIGTERM


def test_broken_configuration_ends_unhealthy(
    session: EngineSession, spec: ImageSpec, timings: BuildTimings
) -> None:
    run = RunSpec(port=8080, health_path="/healthz", env={"BROKEN": "1"}, health_interval_s=1.0)
    with start_container(session, session.session_tag(spec.tag), run, wait_ready=False) as running:
        assert running.wait_health("unhealthy", timeout_s=30) > 5  # start period 5 s, then 3 failed probes


def test_container_exiting_early_is_reported_with_its_logs(
    session: EngineSession, spec: ImageSpec, timings: BuildTimings
) -> None:
    run = RunSpec(port=8080, health_path="/healthz", command=["sh", "-c", "echo going away; exit 7"])
    with pytest.raises(ContainerExitedError) as caught:
        start_container(session, session.session_tag(spec.tag), run)
    assert caught.value.exit_code == 7
    assert "going away" in caught.value.log_tail
    assert "exit code 7" in str(caught.value)


def test_cleanup_removes_a_sessions_running_container(
    session: EngineSession, spec: ImageSpec, timings: BuildTimings
) -> None:
    client = connect()
    other = new_session(client)
    label = {"label": f"{LABEL}={other.id}"}
    try:
        start_container(other, session.session_tag(spec.tag), RunSpec(port=8080, health_path="/healthz"))
        assert len(client.containers.list(filters=label)) == 1
    finally:
        removed = other.cleanup()
    assert len(removed.containers) == 1
    assert client.containers.list(all=True, filters=label) == []


def test_cleanup_untags_a_second_tag_of_the_kept_image() -> None:
    """A rebuild that gives the kept image's id (BuildKit reproduces identical images) leaves no extra tag."""
    client = connect()
    run = new_session(client)
    base = next(image for image in client.images.list() if image.tags)  # untagging ours never deletes it
    kept, extra = f"harness-test/keep:{run.id}", f"harness-test/keep:{run.id}-same"
    for ref in (kept, extra):
        base.tag(ref)
        run.track_image(ref)
    try:
        run.cleanup(keep_images=[kept])
        assert image_exists(client, kept)
        assert not image_exists(client, extra)
    finally:
        client.images.remove(kept)
