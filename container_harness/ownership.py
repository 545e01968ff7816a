"""One label per run on everything the harness creates, and removal of exactly those objects at the end.

Several runs may share one engine. Each announces itself with a labelled marker volume while it lives. The
intermediate images its builds made are the engine's build cache, which another live run may be using: a run
that ends while others live hands them over (an unlabelled volume listing them), and the last run to end
removes them and every hand-over.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from container_harness.errors import CleanupError
from container_harness.image_ref import parse_image_ref
from container_harness.timestamps import rfc3339_seconds

_log = logging.getLogger(__name__)
Kind = Literal["container", "network", "volume", "image"]

LABEL = "io.harness.session"
OWNER_LABEL = "io.harness.owner"  # on a marker: host and pid of the run's process, to tell a dead run here
# On a marker: the owner's boot, pid namespace and start time, `<boot id>/<pid ns>/<start ticks>`, to tell a reused
# pid, another machine of the same name, and a run in a container that shares the host's name (--network host)
# but not its pids.
OWNER_PROCESS_LABEL = "io.harness.owner-process"
ORPHANS_LABEL = "io.harness.orphans"  # on a hand-over volume: the build-cache images a finished run left
MARKER_PREFIX = "harness-session-"
ORPHANS_PREFIX = "harness-orphans-"
_STALE_S = 6 * 3600.0  # a marker older than this is a run that died without cleaning up, not a live one
# An interrupted BuildKit build's export goes on in the engine after its client has gone; clean-up waits for it
# this long at most (a 300 MB image exports in about 2 s here), polling the engine's build cache.
_SETTLE_S = 60.0
_SETTLE_POLL_S = 0.2
_SHORT_ID = re.compile(r"[0-9a-f]{12,64}")


@dataclass
class CleanupSummary:
    """What a clean-up removed (ids or references) per kind of object, what it could not remove and why, and how
    long it waited for an interrupted build to end in the engine."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    build_cache: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    waited_s: float = 0.0

    def removed(self) -> int:
        """How many objects went."""
        return sum(len(kind) for kind in (self.containers, self.networks, self.volumes, self.images))

    def attempt(self, kind: Kind, ref: str, remove: Callable[[], object]) -> None:
        """Remove one object and record it; a failure is recorded too, and the clean-up goes on.

        Gone already, or still used by someone else's object (409), is neither: it is not this run's to remove.
        """
        try:
            remove()
        except NotFound:
            return
        except APIError as exc:
            if exc.status_code != 409:
                self.failures.append(f"{kind} {ref}: {exc.explanation or exc}")
            return
        except (DockerException, requests.RequestException) as exc:
            self.failures.append(f"{kind} {ref}: {exc}")
            return
        getattr(self, f"{kind}s").append(ref)

    def listing(self, kind: Kind, list_objects: Callable[[], list[Any]]) -> list[Any]:
        """The objects a listing returns; a failed listing is recorded, and gives none."""
        try:
            return list_objects()
        except (DockerException, requests.RequestException) as exc:
            self.failures.append(f"listing {kind}s: {exc}")
            return []


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
    unfinished_builds: list[str] = field(default_factory=list)  # tags of BuildKit builds cut short
    swept: dict[str, CleanupSummary] = field(default_factory=dict)  # killed runs' leftovers removed at start

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
        """Mark the run as live on the engine (a labelled volume), so other runs keep the build cache it uses and
        a later run can tell, from its owner, when it was killed before its clean-up."""
        if not self.keep:
            labels = {**self.labels(), OWNER_LABEL: f"{socket.gethostname()}:{os.getpid()}"}
            process = _process_identity(os.getpid())
            labels |= {OWNER_PROCESS_LABEL: process} if process is not None else {}
            self.client.volumes.create(name=f"{MARKER_PREFIX}{self.id}", labels=labels)

    def note_buildkit_build(self, started: float, ended: float) -> None:
        """Remember when a BuildKit build of this run ran (epoch seconds): its cache records date from then."""
        self.buildkit_windows.append((started, ended))

    def note_unfinished_build(self, tag: str) -> None:
        """A BuildKit build of this run was cut short (interrupt, timeout). Its client has gone, but the engine
        may still be exporting the image and tag it later: clean-up waits for that, then removes it."""
        self.unfinished_builds.append(tag)
        self.track_image(tag)

    def cleanup(self, keep_images: Sequence[str] = ()) -> CleanupSummary:
        """Remove this run's containers, networks, volumes and images (but not keep_images); idempotent.

        Every object is tried on its own. The run's marker goes last, and only when everything else went: a
        marker left behind lets the next run on this engine sweep the rest. CleanupError names each failure.
        """
        summary = CleanupSummary()
        if self.keep:
            return summary
        summary.waited_s = self._await_unfinished_builds(summary)
        for tag in keep_images:
            if tag in self.promotions:
                self._promote(summary, tag)
        keep_ids = {_image_id(self.client, ref) for ref in keep_images} - {None}
        self._remove_owned(summary, keep_images, keep_ids)
        self.built_images = [ref for ref in self.built_images if ref in keep_images]
        self._settle_cache(summary, keep_ids)
        if self.prune_build_cache and self.buildkit_windows:
            summary.build_cache.extend(_prune_records(self.client, self.buildkit_windows))
        self._remove_marker(summary)
        return summary

    def _promote(self, summary: CleanupSummary, tag: str) -> None:
        """Move a kept tag to the image this run built for it."""
        parsed = parse_image_ref(tag)
        try:
            self.client.api.tag(self.promotions[tag], parsed.repository, parsed.tag)
        except (DockerException, requests.RequestException) as exc:
            summary.failures.append(f"tagging {self.promotions[tag]} as {tag}: {exc}")

    def _remove_owned(
        self, summary: CleanupSummary, keep_images: Sequence[str] = (), keep_ids: set[str | None] | None = None
    ) -> None:
        """Remove the labelled containers, networks and volumes (the marker excepted), then the run's images."""
        label_filter = {"label": f"{LABEL}={self.id}"}
        # ignore_removed: another run's clean-up may remove a listed container before docker-py inspects it.
        list_containers = partial(self.client.containers.list, all=True, filters=label_filter, ignore_removed=True)
        containers = summary.listing("container", list_containers)
        for container in containers:
            summary.attempt("container", container.id, partial(container.remove, force=True, v=True))
        for network in summary.listing("network", partial(self.client.networks.list, filters=label_filter)):
            summary.attempt("network", network.id, network.remove)
        marker = f"{MARKER_PREFIX}{self.id}"
        for volume in summary.listing("volume", partial(self.client.volumes.list, filters=label_filter)):
            if volume.name != marker:
                summary.attempt("volume", volume.id, partial(volume.remove, force=True))
        self._remove_images(summary, keep_images, keep_ids or set())

    def _remove_images(self, summary: CleanupSummary, keep_images: Sequence[str], keep_ids: set[str | None]) -> None:
        """Remove the run's images: what it tracked, its own tags wherever they appeared, its labelled images."""
        label_filter = {"label": f"{LABEL}={self.id}"}
        # The engine's image summaries, not docker-py's Image objects: those inspect each image after listing,
        # and another run's clean-up may remove one in between.
        labelled = summary.listing("image", partial(self.client.api.images, all=True, filters=label_filter))
        tags = [tag for image in summary.listing("image", self.client.api.images) for tag in image["RepoTags"] or []]
        own_tags = [tag for tag in tags if f"harness-{self.id}" in tag]  # also those a cut-short build set late
        # Tags first (untagging deletes an image nobody else tags), then ids that are left without any tag:
        # an id another party has tagged meanwhile (a kept image, an image built FROM it, shared cache) stays.
        for ref in sorted({*self.built_images, *own_tags, *(image["Id"] for image in labelled)}, key=_is_image_id):
            # Another tag on a kept image's id is only untagged, so only ids are kept by id.
            if ref in keep_images or (_is_image_id(ref) and _image_id(self.client, ref) in keep_ids):
                continue
            if _is_image_id(ref) and _tags(self.client, ref):
                continue
            summary.attempt("image", ref, partial(self.client.images.remove, ref, noprune=False))

    def _remove_marker(self, summary: CleanupSummary) -> None:
        """Remove the run's marker when everything else went; else keep it (for the next run's sweep) and raise."""
        marker = f"{MARKER_PREFIX}{self.id}"
        if not summary.failures:
            summary.attempt("volume", marker, partial(self.client.api.remove_volume, marker, force=True))
        if summary.failures:
            raise CleanupError(
                f"clean-up of harness run {self.id} could not remove {len(summary.failures)} object(s) and went on "
                "with the rest: " + "; ".join(summary.failures),
                hint=f"the run's marker volume {marker} stays, so the next harness run on this engine sweeps what "
                f"is left; or remove it by hand: `docker ps -a --filter label={LABEL}={self.id}` and the same for "
                "images, volumes and networks",
            )

    def _await_unfinished_builds(self, summary: CleanupSummary) -> float:
        """Wait, at most _SETTLE_S, until the engine's BuildKit lets go of what it held when this run's cut-short
        builds ended: until then an export may still write and tag their image. Seconds waited."""
        if not self.unfinished_builds:
            return 0.0
        started = time.monotonic()
        busy = _records_in_use(self.client, summary)
        while busy and time.monotonic() - started < _SETTLE_S:
            time.sleep(_SETTLE_POLL_S)
            busy &= _records_in_use(self.client, summary)
        if busy:
            summary.failures.append(
                f"BuildKit still held {len(busy)} cache record(s) {_SETTLE_S:.0f} s after the interrupted build of "
                f"{', '.join(self.unfinished_builds)} (another build on this engine, or a long export)"
            )
        self.unfinished_builds = []
        return time.monotonic() - started

    def _settle_cache(self, summary: CleanupSummary, keep_ids: set[str | None]) -> None:
        """Hand the build cache over while other runs live; as the last one, remove it and all hand-overs."""
        mine = [ref for ref in self.cache_images if ref not in keep_ids]
        self.cache_images = []
        if self._others_live():
            if mine:
                self._hand_over(summary, mine)
            return
        handovers = summary.listing("volume", partial(self.client.volumes.list, filters={"label": ORPHANS_LABEL}))
        orphans = [ref for volume in handovers for ref in volume.attrs["Labels"][ORPHANS_LABEL].split(",")]
        for ref in dict.fromkeys([*mine, *orphans]):
            if ref in keep_ids or _tags(self.client, ref):
                continue  # someone tagged it meanwhile: it is theirs now
            summary.attempt("image", ref, partial(self.client.images.remove, ref, noprune=False))
        for volume in handovers:
            summary.attempt("volume", volume.id, partial(volume.remove, force=True))

    def _hand_over(self, summary: CleanupSummary, cache_images: list[str]) -> None:
        """Leave the run's build-cache images to the runs still live (a volume listing them)."""
        name = f"{ORPHANS_PREFIX}{self.id}"
        try:
            self.client.volumes.create(name=name, labels={ORPHANS_LABEL: ",".join(cache_images)})
        except (DockerException, requests.RequestException) as exc:
            summary.failures.append(f"hand-over volume {name}: {exc}")

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
    """A session with a fresh random id, announced on the engine after sweeping what killed runs left there."""
    session = EngineSession(id=secrets.token_hex(6), client=client, keep=keep, prune_build_cache=prune_build_cache)
    session.swept = sweep_killed_runs(client)
    session.announce()
    return session


def sweep_killed_runs(client: docker.DockerClient) -> dict[str, CleanupSummary]:
    """Remove what runs on this host left when they were killed before their clean-up (SIGKILL, a lost
    machine); per run id, what went.

    Only runs whose marker is still there and whose owner process is provably gone count: a live run's
    objects are never touched, nor those of a run that ended normally (its marker is gone, so its kept image,
    which still carries its label, and any image built FROM that image are safe). A killed run's images are
    its session tags (`…harness-<id>`) and its labelled images that no other tag names.
    """
    swept: dict[str, CleanupSummary] = {}
    for volume in client.volumes.list(filters={"label": LABEL}):
        labels = volume.attrs.get("Labels") or {}
        if not volume.name.startswith(MARKER_PREFIX) or not _owner_gone(labels):
            continue
        dead = EngineSession(id=labels[LABEL], client=client)
        summary = CleanupSummary()
        dead._remove_owned(summary)
        with contextlib.suppress(CleanupError):  # what stays is swept by the next run
            dead._remove_marker(summary)
        swept[dead.id] = summary
        _log.warning(
            "swept killed run %s: %d object(s) removed, %d not", dead.id, summary.removed(), len(summary.failures)
        )
    return swept


def sweep_note(swept: dict[str, CleanupSummary]) -> str | None:
    """One line for the report on what a run's start swept (None when nothing was)."""
    if not swept:
        return None
    parts = [
        f"{run_id} ({summary.removed()} object(s)"
        + (f", {len(summary.failures)} not removed)" if summary.failures else ")")
        for run_id, summary in swept.items()
    ]
    return f"swept what {len(swept)} killed harness run(s) left on this engine: {', '.join(parts)}"


def _records_in_use(client: docker.DockerClient, summary: CleanupSummary) -> set[str]:
    """Ids of the build cache records BuildKit holds now (a build or an export is running on them)."""
    try:
        records = client.df().get("BuildCache") or []
    except (DockerException, requests.RequestException) as exc:
        summary.failures.append(f"reading the build cache: {exc}")
        return set()
    return {str(record["ID"]) for record in records if record.get("InUse")}


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
    """Whether a marker's run provably ended without its clean-up: it ran on this machine since its last boot, in
    this pid namespace, and no process has its pid, or the one that has it started at another time (the pid was
    reused). A run of another boot is never taken for gone: another machine may share the host name (two runners
    named alike on one remote engine), and only the boot id tells them apart."""
    host, _, pid = labels.get(OWNER_LABEL, "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host's run: only its age can tell
    recorded = labels.get(OWNER_PROCESS_LABEL)
    if recorded is None:
        return False  # a marker of an older harness: its pid alone proves nothing
    boot, namespace, _ = recorded.split("/", 2)
    here = _process_identity(os.getpid())
    if here is None:
        return False  # no /proc here: nothing to compare with
    our_boot, our_namespace, _ = here.split("/", 2)
    return (boot, namespace) == (our_boot, our_namespace) and _process_identity(int(pid)) != recorded


def _process_identity(pid: int) -> str | None:
    """`<boot id>/<pid namespace>/<start ticks>` of a process as this process sees it; None when it does not
    exist or there is no /proc (then no run is ever taken for gone)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return f"{boot}/{namespace}/{stat.rsplit(')', 1)[1].split()[19]}"


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
