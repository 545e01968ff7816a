"""Image references: registry ports, namespaces, tags, digests and the default tag."""

from __future__ import annotations

import pytest

from container_harness.image_ref import ImageRef, parse_image_ref

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("api", ImageRef("api", "latest")),
        ("api:1.2", ImageRef("api", "1.2")),
        ("registry:5000/ns/api:v1", ImageRef("registry:5000/ns/api", "v1")),
        ("registry:5000/ns/api", ImageRef("registry:5000/ns/api", "latest")),
        (f"api@{DIGEST}", ImageRef("api", "latest", DIGEST)),
        (f"registry:5000/api:v1@{DIGEST}", ImageRef("registry:5000/api", "v1", DIGEST)),
    ],
)
def test_references_split_into_repository_tag_and_digest(reference: str, expected: ImageRef) -> None:
    assert parse_image_ref(reference) == expected


def test_a_new_tag_keeps_the_repository_and_drops_the_digest() -> None:
    assert parse_image_ref(f"registry:5000/api:v1@{DIGEST}").with_tag("v1-ab") == "registry:5000/api:v1-ab"


@pytest.mark.parametrize("reference", ["", ":v1", f"@{DIGEST}"])
def test_a_reference_without_a_repository_is_refused(reference: str) -> None:
    with pytest.raises(ValueError, match="not an image reference"):
        parse_image_ref(reference)
