"""The BuildKit build path on the real engine through the buildx plugin, with the BuildKit-only tiny image."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from docker.errors import ImageNotFound

from container_harness.build.timer import BuildTimings, build_image, time_builds
from container_harness.engine import connect
from container_harness.errors import BuildError
from container_harness.ownership import LABEL, EngineSession, new_session
from container_harness.specs import ImageSpec

pytestmark = pytest.mark.container

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"


@pytest.fixture(scope="module")
def session() -> Iterator[EngineSession]:
    """A session that prunes its build cache records at the end."""
    run = new_session(connect(), prune_build_cache=True)
    yield run
    run.cleanup()


@pytest.fixture(scope="module")
def spec(session: EngineSession) -> ImageSpec:
    """Dockerfile.buildkit on a base of its own that only the provider can make (the provider path runs)."""
    base = f"harness-test/busybox:{session.id}"
    session.track_image(base)
    return ImageSpec(
        dockerfile=TINY / "Dockerfile.buildkit",
        context=TINY,
        tag=f"harness-test/tiny-buildkit:{session.id}",
        build_args={"BASE_IMAGE": base},
        code_change_path="app/www/index.html",
        dependency_change_path="start.sh",
        base_provider=f'sh {TINY / "provide_base.sh"} "$HARNESS_BASE_IMAGE"',
        builder="buildkit",
    )


@pytest.fixture(scope="module")
def timings(session: EngineSession, spec: ImageSpec) -> BuildTimings:
    return time_builds(session, spec)


def test_builds_are_timed_with_buildkit_s_phases(timings: BuildTimings) -> None:
    report = timings.to_report()
    assert report["builder"] == "buildkit"
    assert report["buildkit_version"]
    assert timings.cached_s < timings.full_s
    assert timings.cached[0].image_id == timings.full[0].image_id
    assert report["exporter"]["full_s"] > report["exporter"]["cached_s"]
    assert set(report["context_transfer"]) == {"full_s", "cached_s", "code_change_s", "dependency_change_s"}
    assert timings.full[0].log.steps[1].seconds > 0


def test_images_carry_the_session_label(session: EngineSession, spec: ImageSpec, timings: BuildTimings) -> None:
    labels = session.client.images.get(timings.full[0].image_id).labels
    assert labels[LABEL] == session.id
    assert spec.build_args["BASE_IMAGE"] in timings.build_args.values()


def test_the_classic_builder_rejects_the_buildkit_only_dockerfile(session: EngineSession, spec: ImageSpec) -> None:
    classic = ImageSpec(
        dockerfile=spec.dockerfile, context=spec.context, tag=f"{spec.tag}-classic",
        build_args=dict(spec.build_args), builder="classic",
    )  # fmt: skip
    with pytest.raises(BuildError, match="classic builder") as raised:
        build_image(session, classic, nocache=True, kind="full")
    assert "requires BuildKit" in str(raised.value)


def test_cleanup_removes_the_images_and_prunes_the_run_s_build_cache(
    session: EngineSession, spec: ImageSpec, timings: BuildTimings
) -> None:
    images = [run.image_id for run in [*timings.full, *timings.code_change, *timings.dependency_change]]
    summary = session.cleanup()
    assert summary.build_cache, "no build cache record of the run was pruned"
    left = {record["ID"] for record in session.client.df()["BuildCache"] or []} & set(summary.build_cache)
    assert left == set()
    for image in [*images, session.session_tag(spec.tag), spec.build_args["BASE_IMAGE"]]:
        with pytest.raises(ImageNotFound):
            session.client.images.get(image)
