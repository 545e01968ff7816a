"""Image references taken apart once (pure): `[registry[:port]/][namespace/]name[:tag][@digest]`, so tags the
harness derives from a configured one never mistake a registry's port or a digest for a tag."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TAG = "latest"  # what the engine assumes when a reference names no tag


@dataclass(frozen=True)
class ImageRef:
    """A reference's repository (registry and namespace included), tag (DEFAULT_TAG when none is written) and
    digest (`sha256:…`, or None)."""

    repository: str
    tag: str
    digest: str | None = None

    def with_tag(self, tag: str) -> str:
        """The repository under another tag (the digest names the old content, so it is dropped)."""
        return f"{self.repository}:{tag}"


def parse_image_ref(reference: str) -> ImageRef:
    """The parts of an image reference; ValueError when it has no repository."""
    name, _, digest = reference.partition("@")
    # A colon after the last slash starts the tag; one before it is a registry's port.
    repository, colon, tag = name.rpartition(":")
    if not colon or "/" in tag:
        repository, tag = name, DEFAULT_TAG
    if not repository:
        raise ValueError(f"not an image reference: {reference!r} (expected [registry/]name[:tag][@digest])")
    return ImageRef(repository=repository, tag=tag, digest=digest or None)
