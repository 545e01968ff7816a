"""The tiny fixture service's tables for a harness configuration, shared by the tests that run it in a child
pytest: how the harness reaches it, how to make it unhealthy, and where a volume override shows."""

from __future__ import annotations

RUN_TABLES = """
[run]
port = 8080
health_path = "/healthz"
# Probe every second, not at the image's 30 s HEALTHCHECK interval (every start and the unhealthy check).
health_interval_s = 1

[unhealthy]
env = { BROKEN = "1" }

[volume]
host = "external"
target = "/data"
check_path = "/data/source.json"
expect_json = { source = "external" }
"""
