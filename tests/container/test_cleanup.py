"""Clean-up that always finishes: an engine error on one object in the middle of a run's clean-up leaves every other
object removed, names the failure, and keeps the run's marker so that the next run sweeps what is left."""

from __future__ import annotations

import subprocess
from pathlib import Path

import docker
import pytest
import requests
from docker.errors import APIError
from docker.models.containers import Container

from container_harness.engine import connect
from container_harness.errors import CleanupError
from container_harness.ownership import LABEL, MARKER_PREFIX, new_session
from tests.container.engine_objects import image_exists

pytestmark = pytest.mark.container

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"
BUSYBOX = "local/busybox:stable"  # made by the tiny fixture's provider


def engine_error(status: int) -> APIError:
    """The error docker-py raises for an engine answer with this HTTP status."""
    response = requests.Response()
    response.status_code = status
    return APIError("injected engine failure", response=response, explanation="injected engine failure")


def labelled(client: docker.DockerClient, session_id: str) -> dict[str, list[str]]:
    label = {"label": f"{LABEL}={session_id}"}
    return {
        "containers": sorted(c.id for c in client.containers.list(all=True, filters=label)),
        "volumes": sorted(v.name for v in client.volumes.list(filters=label)),
        "networks": sorted(n.id for n in client.networks.list(filters=label)),
    }


def test_an_engine_error_half_way_leaves_every_other_object_removed_and_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subprocess.run(["sh", str(TINY / "provide_base.sh"), BUSYBOX], check=True, capture_output=True, timeout=300)
    client = connect()
    run = new_session(client)
    first, second = (client.containers.create(BUSYBOX, ["true"], labels=run.labels()) for _ in range(2))
    for _ in range(2):
        client.volumes.create(labels=run.labels())
    client.networks.create(f"harness-cleanup-{run.id}", labels=run.labels())
    tag = run.session_tag("harness-test/cleanup")
    client.images.get(BUSYBOX).tag(tag)
    run.track_image(tag)
    marker = f"{MARKER_PREFIX}{run.id}"
    removal = Container.remove

    def failing_once(container: Container, **kwargs: object) -> None:
        if container.id == first.id:
            raise engine_error(500)
        removal(container, **kwargs)

    monkeypatch.setattr(Container, "remove", failing_once)
    try:
        with pytest.raises(CleanupError) as caught:
            run.cleanup()
        assert f"container {first.id}: injected engine failure" in str(caught.value)
        assert marker in caught.value.hint
        assert labelled(client, run.id) == {"containers": [first.id], "volumes": [marker], "networks": []}
        assert second.id not in str(caught.value)
        assert not image_exists(client, tag)
    finally:
        monkeypatch.undo()
        run.cleanup()  # the engine answers again: the rest goes, the marker last
    assert labelled(client, run.id) == {"containers": [], "volumes": [], "networks": []}
