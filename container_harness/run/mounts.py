"""A folder of the caller's mounted into a container, also where the engine cannot see the caller's paths: a remote
DOCKER_HOST, or the harness itself in a container that shares the engine's socket (GitLab's docker executor,
Jenkins agents, dev containers), where a bind mount names a path the engine resolves on its own host.

Then the folder is copied into a volume labelled with the run, through the engine's archive API, and that volume
is mounted instead; clean-up removes it like every other object of the run.
"""

from __future__ import annotations

import base64
import json
import logging
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Literal

from docker.errors import APIError
from docker.types import Mount

from container_harness.ownership import EngineSession
from container_harness.timestamps import rfc3339_seconds

_log = logging.getLogger(__name__)
_PROBE = "/harness-mount-probe"
_GO_PERMISSIONS = 0o7777  # Go's os.FileMode keeps the type in its high bits, the permissions in these
MountKind = Literal["auto", "bind", "copy"]


def folder_mount(
    session: EngineSession, image: str, folder: Path, target: str, *, read_only: bool, kind: MountKind = "auto"
) -> tuple[dict[str, dict[str, str]], Literal["bind", "copy"]]:
    """The `volumes=` entry that shows `folder` at `target`, and how: a bind mount when the engine sees the folder
    (kind="auto" checks, "bind" assumes it), else a labelled volume holding a copy of it."""
    mode = "ro" if read_only else "rw"
    if kind == "bind" or (kind == "auto" and engine_sees(session, image, folder)):
        return {str(folder): {"bind": target, "mode": mode}}, "bind"
    volume = copy_to_volume(session, image, folder)
    _log.info("the engine cannot see %s: mounted a copy of it (volume %s) at %s", folder, volume, target)
    return {volume: {"bind": target, "mode": mode}}, "copy"


def engine_sees(session: EngineSession, image: str, folder: Path) -> bool:
    """Whether a bind mount of `folder` shows the engine the caller's folder, not another one or none.

    A container of `image` is created with the bind (never started) and the engine's stat of the mounted path
    is compared with the caller's (modification time to the nanosecond, and permissions); nothing is written.
    """
    try:
        probe = session.client.containers.create(
            image,
            ["true"],
            mounts=[Mount(_PROBE, str(folder), type="bind", read_only=True)],
            labels=session.labels(),
        )
    except APIError as exc:
        if exc.status_code == 400 and "does not exist" in str(exc.explanation):
            return False  # the engine's host has no such path
        raise
    try:
        stat = _path_stat(session, probe.id, _PROBE)
    finally:
        probe.remove(force=True)
    local = folder.stat()
    same_time = abs(rfc3339_seconds(str(stat["mtime"])) - local.st_mtime) < 1e-6
    return same_time and int(stat["mode"]) & _GO_PERMISSIONS == local.st_mode & _GO_PERMISSIONS


def _path_stat(session: EngineSession, container_id: str, path: str) -> dict[str, Any]:
    """The engine's stat of a path in a container: `HEAD /containers/{id}/archive`, which docker-py does not wrap
    (its get_archive streams the whole tar, and an unread stream keeps the container locked in the engine)."""
    api = session.client.api
    response = api.head(f"{api.base_url}/v{api.api_version}/containers/{container_id}/archive", params={"path": path})
    response.raise_for_status()
    stat: dict[str, Any] = json.loads(base64.b64decode(response.headers["X-Docker-Container-Path-Stat"]))
    return stat


def copy_to_volume(session: EngineSession, image: str, folder: Path) -> str:
    """A new volume labelled with the run, holding a copy of `folder` (owners and modes kept); its name."""
    volume = session.client.volumes.create(labels=session.labels())
    holder = session.client.containers.create(
        image, ["true"], volumes={volume.name: {"bind": _PROBE, "mode": "rw"}}, labels=session.labels()
    )
    try:
        with tempfile.TemporaryFile() as archive:
            with tarfile.open(fileobj=archive, mode="w") as tar:
                tar.add(folder, arcname=".")
            archive.seek(0)
            holder.put_archive(_PROBE, archive)
    finally:
        holder.remove(force=True)
    return str(volume.name)
