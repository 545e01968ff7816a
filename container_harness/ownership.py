"""One label per run on everything the harness creates, and removal of exactly those objects at the end."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import docker
from docker.errors import APIError, ImageNotFound, NotFound

from container_harness.build.buildkit_log import rfc3339_seconds

LABEL = "io.harness.session"
_SHORT_ID = re.compile(r"[0-9a-f]{12,64}")


@dataclass(frozen=True)
class CleanupSummary:
    """What cleanup removed (ids or references), per kind of object."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    build_cache: list[str] = field(default_factory=list)


@dataclass
class Session:
    """A run's identity: the label value put on every object, plus the images this run built.

    Built images are tracked by reference instead of labelled: the build API's `labels=` appends a LABEL
    step to every build, which costs a container commit (about 1 s here) in each uncached build.
    BuildKit's cache records carry no label: with prune_build_cache, cleanup prunes the records created
    while one of this run's BuildKit builds ran (buildkit_windows, epoch seconds, engine and host sharing
    a clock); a build another party runs at the same moment can lose its new records too.
    """

    id: str
    client: docker.DockerClient
    keep: bool = False
    built_images: list[str] = field(default_factory=list)
    prune_build_cache: bool = False
    buildkit_windows: list[tuple[float, float]] = field(default_factory=list)

    def labels(self) -> dict[str, str]:
        """The label that marks an object as this run's."""
        return {LABEL: self.id}

    def track_image(self, ref: str) -> None:
        """Remember an image (tag or id) this run built, so cleanup removes it."""
        if ref not in self.built_images:
            self.built_images.append(ref)

    def note_buildkit_build(self, started: float, ended: float) -> None:
        """Remember when a BuildKit build of this run ran (epoch seconds): its cache records date from then."""
        self.buildkit_windows.append((started, ended))

    def cleanup(self, keep_images: Sequence[str] = ()) -> CleanupSummary:
        """Remove this run's containers, networks, volumes and images (but not keep_images); idempotent."""
        summary = CleanupSummary()
        if self.keep:
            return summary
        label_filter = {"label": f"{LABEL}={self.id}"}
        for container in self.client.containers.list(all=True, filters=label_filter):
            if _ignore_missing(partial(container.remove, force=True, v=True)):
                summary.containers.append(container.id)
        for network in self.client.networks.list(filters=label_filter):
            if _ignore_missing(network.remove):
                summary.networks.append(network.id)
        for volume in self.client.volumes.list(filters=label_filter):
            if _ignore_missing(partial(volume.remove, force=True)):
                summary.volumes.append(volume.id)
        keep_ids = {_image_id(self.client, ref) for ref in keep_images} - {None}
        labelled = [image.id for image in self.client.images.list(all=True, filters=label_filter)]
        # Tags first (untagging deletes an image nobody else tags), then ids that are left without any tag:
        # an id another party has tagged meanwhile (shared build cache) stays.
        for ref in sorted({*self.built_images, *labelled}, key=_is_image_id):
            # Another tag on a kept image's id is only untagged, so only ids are kept by id.
            if ref in keep_images or (_is_image_id(ref) and _image_id(self.client, ref) in keep_ids):
                continue
            if _is_image_id(ref) and _tags(self.client, ref):
                continue
            if _ignore_missing(partial(self.client.images.remove, ref, noprune=False)):
                summary.images.append(ref)
        self.built_images = [ref for ref in self.built_images if ref in keep_images]
        if self.prune_build_cache and self.buildkit_windows:
            summary.build_cache.extend(_prune_records(self.client, self.buildkit_windows))
        return summary


def new_session(client: docker.DockerClient, keep: bool = False, prune_build_cache: bool = False) -> Session:
    """A session with a fresh random id."""
    return Session(id=secrets.token_hex(6), client=client, keep=keep, prune_build_cache=prune_build_cache)


def _prune_records(client: docker.DockerClient, windows: Sequence[tuple[float, float]]) -> list[str]:
    """Prune the builder cache's records created within one of the windows; ids of what went.

    The engine's prune takes one id per call, and a record another record rests on only goes once that one
    has, hence the passes until one removes nothing. Records in use by a running build stay.
    """
    deleted: list[str] = []
    while candidates := [
        str(record["ID"])
        for record in client.df().get("BuildCache") or []
        if record["ID"] not in deleted
        and any(start <= rfc3339_seconds(record["CreatedAt"]) <= end for start, end in windows)
    ]:
        gone = [
            record_id
            for candidate in candidates
            for record_id in client.api.prune_builds(filters={"id": candidate}).get("CachesDeleted") or []
        ]
        if not gone:
            break
        deleted += gone
    return deleted


def _is_image_id(ref: str) -> bool:
    """True for an image id (full "sha256:…" or the builder's short hex form), False for a tag."""
    return ref.startswith("sha256:") or _SHORT_ID.fullmatch(ref) is not None


def _image_id(client: docker.DockerClient, ref: str) -> str | None:
    """The id an image reference points to, or None when it does not exist."""
    try:
        return client.images.get(ref).id
    except ImageNotFound:
        return None


def _tags(client: docker.DockerClient, image_id: str) -> list[str]:
    """Tags currently pointing at an image id (empty when untagged or gone)."""
    try:
        return list(client.images.get(image_id).tags)
    except ImageNotFound:
        return []


def _ignore_missing(remove: Callable[[], object]) -> bool:
    """Run a removal; False when the object is gone already or still used by someone else's object."""
    try:
        remove()
    except NotFound:
        return False
    except APIError as exc:
        if exc.status_code == 409:
            return False
        raise
    return True
