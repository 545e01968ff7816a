"""Bytes wasted across an image's layers (files later overwritten or deleted), computed like dive."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import docker

from container_harness.image.stream_file import StreamFile

_WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class WasteReport:
    """Total wasted bytes and, per path, the bytes its superseded or deleted versions took (largest first)."""

    total_bytes: int
    files: list[tuple[str, int]]


def wasted_bytes(layer_maps: list[dict[str, int | None]]) -> WasteReport:
    """Sum every version of a path that does not survive to the final filesystem.

    A version is wasted when a later layer writes the same path again or deletes it (a whiteout of the
    path or of a directory above it, or an opaque-directory marker `<dir>/.wh..wh..opq` over it).
    Layer maps are oldest first: path -> size, None for a whiteout.
    """
    live: dict[str, int] = {}
    waste: dict[str, int] = {}

    def discard(path: str) -> None:
        size = live.pop(path, None)
        if size:
            waste[path] = waste.get(path, 0) + size

    for layer in layer_maps:
        for path, size in layer.items():
            if size is not None:
                continue
            if path.endswith("/" + OPAQUE):
                removed = [p for p in live if p.startswith(path[: -len(OPAQUE)])]
            else:
                removed = [p for p in live if p == path or p.startswith(path + "/")]
            for victim in removed:
                discard(victim)
        for path, size in layer.items():
            if size is not None:
                discard(path)
                live[path] = size
    files = sorted(waste.items(), key=lambda item: (-item[1], item[0]))
    return WasteReport(total_bytes=sum(waste.values()), files=files)


def layer_maps(client: docker.DockerClient, ref: str) -> list[dict[str, int | None]]:
    """Per layer (oldest first): path -> size, None for a whiteout, streamed from `docker save`.

    The archive is read once as a stream (no temporary file); its manifest comes last, so layers are
    collected by archive name and ordered by the manifest afterwards.
    """
    by_name: dict[str, dict[str, int | None]] = {}
    manifest: list[dict[str, Any]] = []
    with tarfile.open(fileobj=StreamFile(client.images.get(ref).save()), mode="r|") as archive:
        for member in archive:
            if not member.isfile():
                continue
            content = archive.extractfile(member)
            if content is None:
                continue
            if member.name == "manifest.json":
                manifest = json.load(content)
            elif member.name.endswith(".tar") or member.name.startswith("blobs/"):
                entries = _layer_entries(content)
                if entries is not None:
                    by_name[member.name] = entries
    return [by_name[name] for name in manifest[0]["Layers"]]


def _layer_entries(content: IO[bytes]) -> dict[str, int | None] | None:
    """path -> size (None for whiteouts) of one layer tar; None when the blob is not a tar (e.g. config)."""
    try:
        with tarfile.open(fileobj=content, mode="r|*") as layer:
            return dict(_entries(layer))
    except tarfile.ReadError:
        return None


def _entries(layer: tarfile.TarFile) -> Iterator[tuple[str, int | None]]:
    """(absolute path, size or None) for each member; whiteouts name the path they delete."""
    for member in layer:
        name = "/" + member.name.removeprefix("./").rstrip("/")
        head, _, base = name.rpartition("/")
        if base == OPAQUE:
            yield name, None
        elif base.startswith(_WHITEOUT):
            yield f"{head}/{base[len(_WHITEOUT):]}", None
        else:
            yield name, member.size if member.isfile() else 0
