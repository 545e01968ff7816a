"""A run killed before its clean-up (SIGKILL) leaves its objects on the engine; the next run sweeps them and says
so. It never touches a live run's objects, a kept image (which still carries its build's session label), or an
image built FROM that kept image by hand."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from container_harness.build.timer import build_current
from container_harness.engine import connect
from container_harness.ownership import LABEL, MARKER_PREFIX, EngineSession, new_session
from container_harness.specs import ImageSpec
from tests.container.engine_objects import image_exists

pytestmark = pytest.mark.container

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"
BUSYBOX = "local/busybox:stable"  # made by the tiny fixture's provider

# A run that builds the tiny image through BuildKit (a labelled image under its session tag) and makes a
# container, a volume and a network, says its id, then waits: killed, or told to clean up by closing stdin.
RUN_SCRIPT = """
import sys
from pathlib import Path

from container_harness.build.timer import build_current
from container_harness.engine import connect
from container_harness.ownership import new_session
from container_harness.specs import ImageSpec

tiny = Path(sys.argv[1])
client = connect()
session = new_session(client)
spec = ImageSpec(dockerfile=tiny / "Dockerfile.buildkit", context=tiny, tag="harness-test/sweep-run:latest",
                 build_args={"BASE_IMAGE": sys.argv[2]}, builder="buildkit")
image = build_current(session, spec).image_id
client.containers.create(image, labels=session.labels())
client.volumes.create(labels=session.labels())
client.networks.create(f"harness-sweep-{session.id}", labels=session.labels())
print(session.id, flush=True)
sys.stdin.read()
session.cleanup()
"""


def labelled(client: docker.DockerClient, session_id: str) -> dict[str, int]:
    """How many objects of each kind carry the session's label, and its session tags."""
    label = {"label": f"{LABEL}={session_id}"}
    return {
        "containers": len(client.containers.list(all=True, filters=label)),
        "volumes": len(client.volumes.list(filters=label)),
        "networks": len(client.networks.list(filters=label)),
        "images": len(client.images.list(all=True, filters=label)),
        "session tags": sum(f"harness-{session_id}" in tag for image in client.images.list() for tag in image.tags),
    }


def start_run() -> tuple[subprocess.Popen[str], str]:
    """A run in a child process, once it has made its objects; and its session id."""
    child = subprocess.Popen(
        [sys.executable, "-c", RUN_SCRIPT, str(TINY), BUSYBOX],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    session_id = child.stdout.readline().strip()
    assert session_id, f"the run made nothing (exit {child.wait()})"
    return child, session_id


@pytest.fixture
def kept_and_derived(harness_session: EngineSession) -> Iterator[tuple[str, str]]:
    """An image a finished run kept (keep_image: its tag moved at clean-up, its session label stays), and an
    image built FROM it by hand, which inherits that label."""
    subprocess.run(["sh", str(TINY / "provide_base.sh"), BUSYBOX], check=True, capture_output=True, timeout=300)
    keeper = new_session(harness_session.client)
    kept = f"harness-test/sweep-kept:{keeper.id}"
    spec = ImageSpec(
        dockerfile=TINY / "Dockerfile.buildkit",
        context=TINY,
        tag=kept,
        build_args={"BASE_IMAGE": BUSYBOX},
        builder="buildkit",
    )
    build_current(keeper, spec)
    keeper.cleanup(keep_images=[kept])
    derived = f"harness-test/sweep-derived:{keeper.id}"
    by_hand = subprocess.run(
        ["docker", "buildx", "build", "--load", "--tag", derived, "-"],
        input=f"FROM {kept}\nRUN echo derived > /tmp/derived\n",
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert by_hand.returncode == 0, by_hand.stderr
    assert harness_session.client.images.get(derived).labels[LABEL] == keeper.id
    yield kept, derived
    for ref in (derived, kept):
        harness_session.client.images.remove(ref)


def test_a_run_after_a_killed_one_sweeps_its_objects_and_nothing_else(kept_and_derived: tuple[str, str]) -> None:
    client = connect()
    kept, derived = kept_and_derived
    killed, killed_id = start_run()
    live, live_id = start_run()
    try:
        killed.kill()
        killed.wait()
        before = labelled(client, killed_id)
        # A container, a network, its volume and its marker, its image and that image's session tag.
        assert {kind: min(count, 2) for kind, count in before.items()} == {
            "containers": 1, "volumes": 2, "networks": 1, "images": 1, "session tags": 1
        }, before  # fmt: skip
        live_before = labelled(client, live_id)

        sweeper = new_session(client)
        try:
            assert labelled(client, killed_id) == dict.fromkeys(before, 0)
            summary = sweeper.swept[killed_id]
            assert (len(summary.containers), len(summary.networks), len(summary.volumes)) == (1, 1, 2)
            assert summary.images
            assert summary.failures == []
            assert live_id not in sweeper.swept
            assert labelled(client, live_id) == live_before
            assert client.volumes.get(f"{MARKER_PREFIX}{live_id}")
            assert image_exists(client, kept)
            assert image_exists(client, derived)
        finally:
            sweeper.cleanup()
    finally:
        killed.kill()
        live.communicate(input="", timeout=120)
    assert live.returncode == 0
    assert labelled(client, live_id) == dict.fromkeys(live_before, 0)
