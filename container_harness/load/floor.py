"""The health floor: the scenario's run settings against the health path alone, driven by the harness's own
locustfile, so the floor needs nothing from the user's locustfile and never measures the scenario again."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from container_harness.specs import HEALTH_PATH_ENV, LoadSpec

# A path, not an import: importing a locustfile would load Locust, and gevent with it, into this process.
HEALTH_LOCUSTFILE = Path(__file__).resolve().parent / "health_locustfile.py"


def health_floor_spec(scenario: LoadSpec, health_path: str) -> LoadSpec:
    """The scenario's users, timing, processes and pinning, with the harness's locustfile GETting health_path."""
    return replace(
        scenario,
        locustfile=HEALTH_LOCUSTFILE,
        user_classes=(),
        tags=(),
        rate=None,
        env={**scenario.env, HEALTH_PATH_ENV: health_path},
    )
