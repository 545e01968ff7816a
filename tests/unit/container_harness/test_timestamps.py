"""The engine's RFC 3339 timestamps (BuildKit's vertexes, the API's CreatedAt) as epoch seconds."""

from __future__ import annotations

import pytest

from container_harness.timestamps import rfc3339_seconds


def test_timestamps_keep_microseconds_of_nanosecond_stamps() -> None:
    assert rfc3339_seconds("2026-11-29T20:15:28.818477825Z") - rfc3339_seconds("2026-11-29T20:15:28Z") == (
        pytest.approx(0.818477, abs=1e-6)
    )
    with pytest.raises(ValueError, match="not an RFC 3339 timestamp"):
        rfc3339_seconds("yesterday")


def test_an_offset_zone_is_the_same_instant_as_utc() -> None:
    assert rfc3339_seconds("2026-11-29T21:15:28+01:00") == rfc3339_seconds("2026-11-29T20:15:28Z")
