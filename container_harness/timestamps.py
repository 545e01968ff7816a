"""The engine's RFC 3339 timestamps as epoch seconds (pure): BuildKit's vertexes and the Docker API's
`CreatedAt` both write nanoseconds, which datetime does not parse."""

from __future__ import annotations

import re
from datetime import datetime

_TIMESTAMP = re.compile(r"^(?P<base>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(?P<fraction>\d+))?(?P<zone>Z|[+-]\d\d:\d\d)?$")


def rfc3339_seconds(timestamp: str) -> float:
    """Seconds since the epoch of an RFC 3339 timestamp (nanoseconds cut to what datetime keeps)."""
    match = _TIMESTAMP.match(timestamp)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {timestamp!r}")
    fraction = (match["fraction"] or "0")[:6]
    zone = "+00:00" if match["zone"] in (None, "Z") else match["zone"]
    return datetime.fromisoformat(f"{match['base']}.{fraction.ljust(6, '0')}{zone}").timestamp()
