"""Wasted bytes across layers, on the layer maps of a real image that overwrites and deletes files."""

from __future__ import annotations

import json
from pathlib import Path

from container_harness.image.layer_waste import wasted_bytes

PAYLOADS = Path(__file__).parent / "payloads"


def _maps() -> list[dict[str, int | None]]:
    loaded: list[dict[str, int | None]] = json.loads((PAYLOADS / "layers_wasteful.json").read_text())
    return loaded


def test_wasteful_image_wastes_the_deleted_and_overwritten_files() -> None:
    """scripts/capture_payloads.py's image: /junk/a (3000 B) deleted by `rm`, /junk/sub/b (5000 B) by
    `rm -rf /junk`, /etc/motd (700 B) overwritten by 1100 B; the busybox base has no /etc/motd."""
    maps = _maps()
    assert "/etc/motd" not in maps[0]
    report = wasted_bytes(maps)
    assert report.files == [("/junk/sub/b", 5000), ("/junk/a", 3000), ("/etc/motd", 700)]
    assert report.total_bytes == 3000 + 5000 + 700


def test_surviving_files_and_directories_waste_nothing() -> None:
    maps: list[dict[str, int | None]] = [{"/a": 10, "/d": 0}, {"/b": 20, "/d": 0}]
    assert wasted_bytes(maps).total_bytes == 0


def test_every_superseded_version_counts_once() -> None:
    maps: list[dict[str, int | None]] = [{"/f": 100}, {"/f": 200}, {"/f": 300}, {"/f": None}]
    report = wasted_bytes(maps)
    assert report.total_bytes == 600
    assert report.files == [("/f", 600)]


def test_opaque_directory_hides_lower_contents_but_not_its_own_layer() -> None:
    maps: list[dict[str, int | None]] = [
        {"/d": 0, "/d/old": 40, "/dx": 7},
        {"/d": 0, "/d/.wh..wh..opq": None, "/d/new": 5},
    ]
    report = wasted_bytes(maps)
    assert report.files == [("/d/old", 40)]
