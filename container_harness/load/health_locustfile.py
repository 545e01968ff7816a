"""The harness's locustfile for the health floor: every user GETs the path in HARNESS_HEALTH_PATH back to back.

Loaded by Locust (container_harness.load.floor names it), never imported by the harness itself.
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

from container_harness.specs import HEALTH_PATH_ENV

HEALTH_PATH = os.environ[HEALTH_PATH_ENV]


class HealthFloor(FastHttpUser):
    """A client that asks only for the health path, as fast as it is answered."""

    wait_time = constant(0)

    @task
    def health(self) -> None:
        self.client.get(HEALTH_PATH, name=HEALTH_PATH)
