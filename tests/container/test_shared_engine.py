"""Two runs on one engine: the first to end hands its build cache over instead of deleting what the other
still builds on, and the last to end removes it all."""

from __future__ import annotations

import secrets
from pathlib import Path

import docker
import pytest

from container_harness.build.timer import build_image, with_base_images
from container_harness.engine import connect
from container_harness.ownership import MARKER_PREFIX, EngineSession, new_session
from container_harness.specs import ImageSpec
from tests.container.engine_objects import handed_over, image_exists

TWO_STAGE = Path(__file__).resolve().parents[1] / "fixtures" / "two_stage"
TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"

pytestmark = pytest.mark.container


def _spec(tag: str, token: str) -> ImageSpec:
    return ImageSpec(
        dockerfile=TWO_STAGE / "Dockerfile",
        context=TWO_STAGE,
        tag=tag,
        build_args={"BASE_IMAGE": "local/busybox:stable", "TOKEN": token},
        builder="classic",  # its intermediate images are the shared cache; BuildKit keeps its own records
        base_provider=f"sh {TINY / 'provide_base.sh'}",
    )


def _other_live_runs(client: docker.DockerClient, *runs: EngineSession) -> bool:
    """Whether a run other than these (e.g. this test suite's own) is live on the engine."""
    mine = {f"{MARKER_PREFIX}{run.id}" for run in runs}
    return any(
        volume.name.startswith(MARKER_PREFIX) and volume.name not in mine
        for volume in client.volumes.list(filters={"label": "io.harness.session"})
    )


def test_the_first_run_to_end_keeps_the_cache_the_other_builds_on() -> None:
    client = connect()
    first, second = new_session(client), new_session(client)
    token = secrets.token_hex(4)  # a builder stage no earlier run has cached
    try:
        spec_a = with_base_images(first, _spec(f"harness-shared/a:{token}", token))
        spec_b = with_base_images(second, _spec(f"harness-shared/b:{token}", token))
        built_a = build_image(first, spec_a, nocache=False, kind="cached")
        build_image(second, spec_b, nocache=False, kind="cached")
        cache = list(first.cache_images)
        assert cache, "the first build made no intermediate image"

        first.cleanup()

        assert not image_exists(client, f"harness-shared/a:{token}")
        dangling = [ref for ref in cache if image_exists(client, ref)]
        assert dangling, "the first run deleted the build cache while the second was live"
        assert set(dangling) <= handed_over(client)
        rebuilt = build_image(second, spec_b, nocache=False, kind="cached")
        assert [step.instruction for step in rebuilt.log.steps if not step.cached and step.keyword == "RUN"] == []
        assert rebuilt.image_id == built_a.image_id  # every step came from the first run's cache
    finally:
        others = _other_live_runs(client, first, second)
        first.cleanup()
        second.cleanup()
    left = [ref for ref in [*cache, f"harness-shared/b:{token}"] if image_exists(client, ref)]
    if others:  # this suite's own run is live: it is the last to end and removes the hand-over
        assert set(left) <= handed_over(client)
    else:
        assert left == []
        assert handed_over(client) == set()
