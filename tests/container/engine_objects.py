"""What is on the engine, for tests that prove a run left nothing behind."""

from __future__ import annotations

import docker
from docker.errors import ImageNotFound

from container_harness.ownership import ORPHANS_LABEL


def image_exists(client: docker.DockerClient, ref: str) -> bool:
    """Whether an image reference (tag or id) is on the engine."""
    try:
        client.images.get(ref)
    except ImageNotFound:
        return False
    return True


def handed_over(client: docker.DockerClient) -> set[str]:
    """Build-cache image refs a finished run handed over to the runs still live."""
    volumes = client.volumes.list(filters={"label": ORPHANS_LABEL})
    return {ref for volume in volumes for ref in volume.attrs["Labels"][ORPHANS_LABEL].split(",")}
