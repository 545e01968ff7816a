"""One label per run on everything the harness creates, and removal of exactly those objects at the end.

Several runs may share one engine. Each announces itself with a labelled marker volume while it lives. The
intermediate images its builds made are the engine's build cache, which another live run may be using: a run
that ends while others live hands them over (an unlabelled volume listing them), and the last run to end
removes them and every hand-over.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

import docker
from docker.errors import APIError, ImageNotFound, NotFound

from container_harness.image_ref import parse_image_ref
from container_harness.timestamps import rfc3339_seconds

LABEL = "io.harness.session"
OWNER_LABEL = "io.harness.owner"  # on a marker: host and pid of the run's process, to tell a dead run here
ORPHANS_LABEL = "io.harness.orphans"  # on a hand-over volume: the build-cache images a finished run left
MARKER_PREFIX = "harness-session-"
ORPHANS_PREFIX = "harness-orphans-"
_STALE_S = 6 * 3600.0  # a marker older than this is a run that died without cleaning up, not a live one
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
class EngineSession:
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
    cache_images: list[str] = field(default_factory=list)  # intermediate images of builds: shared cache
    promotions: dict[str, str] = field(default_factory=dict)  # configured tag -> the image this run built
    prune_build_cache: bool = False
    buildkit_windows: list[tuple[float, float]] = field(default_factory=list)

    def labels(self) -> dict[str, str]:
        """The label that marks an object as this run's."""
        return {LABEL: self.id}

    def track_image(self, ref: str, *, cache: bool = False) -> None:
        """Remember an image (tag or id) this run built, so cleanup removes it; `cache`: a build's intermediate."""
        tracked = self.cache_images if cache else self.built_images
        if ref not in tracked:
            tracked.append(ref)

    def session_tag(self, tag: str, suffix: str = "") -> str:
        """This run's own tag for an image it builds: `tag` made unique, so parallel runs never share one."""
        ref = parse_image_ref(tag)
        return ref.with_tag(f"{ref.tag}{suffix}-harness-{self.id}")

    def promote(self, tag: str, image_id: str) -> None:
        """Give `image_id` the configured `tag` at clean-up when that tag is kept (moved at the end, by its builder)."""
        self.promotions[tag] = image_id

    def announce(self) -> None:
        """Mark the run as live on the engine (a labelled volume), so other runs keep the build cache it uses."""
        if not self.keep:
            owner = f"{socket.gethostname()}:{os.getpid()}"
            self.client.volumes.create(name=f"{MARKER_PREFIX}{self.id}", labels={**self.labels(), OWNER_LABEL: owner})

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
        marker = f"{MARKER_PREFIX}{self.id}"
        for volume in self.client.volumes.list(filters=label_filter):
            if volume.name != marker and _ignore_missing(partial(volume.remove, force=True)):
                summary.volumes.append(volume.id)
        for tag in keep_images:
            if tag in self.promotions:
                parsed = parse_image_ref(tag)
                self.client.api.tag(self.promotions[tag], parsed.repository, parsed.tag)
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
        self._settle_cache(summary, keep_ids)
        if self.prune_build_cache and self.buildkit_windows:
            summary.build_cache.extend(_prune_records(self.client, self.buildkit_windows))
        if _ignore_missing(partial(self.client.api.remove_volume, marker, force=True)):
            summary.volumes.append(marker)
        return summary

    def _settle_cache(self, summary: CleanupSummary, keep_ids: set[str | None]) -> None:
        """Hand the build cache over while other runs live; as the last one, remove it and all hand-overs."""
        mine = [ref for ref in self.cache_images if ref not in keep_ids]
        self.cache_images = []
        if self._others_live():
            if mine:
                self.client.volumes.create(name=f"{ORPHANS_PREFIX}{self.id}", labels={ORPHANS_LABEL: ",".join(mine)})
            return
        handovers = self.client.volumes.list(filters={"label": ORPHANS_LABEL})
        orphans = [ref for volume in handovers for ref in volume.attrs["Labels"][ORPHANS_LABEL].split(",")]
        for ref in dict.fromkeys([*mine, *orphans]):
            if ref in keep_ids or _tags(self.client, ref):
                continue  # someone tagged it meanwhile: it is theirs now
            if _ignore_missing(partial(self.client.images.remove, ref, noprune=False)):
                summary.images.append(ref)
        for volume in handovers:
            if _ignore_missing(partial(volume.remove, force=True)):
                summary.volumes.append(volume.id)

    def _others_live(self) -> bool:
        """Whether another run's marker is on the engine and younger than a dead run's would be."""
        now = datetime.now(UTC)
        for volume in self.client.volumes.list(filters={"label": LABEL}):
            if not volume.name.startswith(MARKER_PREFIX) or volume.name == f"{MARKER_PREFIX}{self.id}":
                continue
            created = datetime.fromisoformat(volume.attrs["CreatedAt"].replace("Z", "+00:00"))
            if (now - created).total_seconds() < _STALE_S and not _owner_gone(volume.attrs.get("Labels") or {}):
                return True
        return False


def new_session(client: docker.DockerClient, keep: bool = False, prune_build_cache: bool = False) -> EngineSession:
    """A session with a fresh random id, announced on the engine."""
    session = EngineSession(id=secrets.token_hex(6), client=client, keep=keep, prune_build_cache=prune_build_cache)
    session.announce()
    return session


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


def _owner_gone(labels: dict[str, str]) -> bool:
    """Whether a marker's run ran on this host and its process is gone (killed before it could clean up)."""
    host, _, pid = labels.get(OWNER_LABEL, "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host's run (or an older marker): only its age can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _is_image_id(ref: str) -> bool:
    """True for an image id (full "sha256:…" or the builder's short hex form), False for a tag."""
    return ref.startswith("sha256:") or _SHORT_ID.fullmatch(ref) is not None


def _image_id(client: docker.DockerClient, ref: str) -> str | None:
    """The id an image reference points to, or None when it does not exist."""
    try:
        return str(client.images.get(ref).id)
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
