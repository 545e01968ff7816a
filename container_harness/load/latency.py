"""Load figures from the raw response times a locustfile writes (pure): exact percentiles, rps, failures.

Locust's own percentiles are bucketed (rounded to 2 significant digits above 100 ms) and include the
warm-up; these are exact and cover only the measured window.

Raw-times file: one line per request, tab-separated: start (epoch seconds), request name, response time
(ms), ok (1 or 0). Lines may come from several processes in any order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from container_harness.errors import HarnessError
from container_harness.summary import percentile


@dataclass(frozen=True)
class RawRequest:
    """One request as the locustfile recorded it."""

    start: float
    name: str
    response_ms: float
    ok: bool


@dataclass(frozen=True)
class LoadStats:
    """Figures of the measured window (after warm-up); failures count the whole run, warm-up included."""

    requests: int
    failures: int
    window_s: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    response_times_ms: list[float]


def parse_raw_times(lines: Iterable[str], source: str = "raw times") -> list[RawRequest]:
    """Records from raw-times lines; blank lines are skipped, a malformed one is an error naming it."""
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        try:
            start, name, response_ms, ok = fields
            records.append(RawRequest(float(start), name, float(response_ms), ok == "1"))
        except ValueError as exc:
            raise HarnessError(
                f"{source} line {number} is not `start<TAB>name<TAB>ms<TAB>ok`: {line.rstrip()!r}"
            ) from exc
    return records


def read_raw_times(path: Path) -> list[RawRequest]:
    """Records from a raw-times file (see the module docstring)."""
    with path.open() as lines:
        return parse_raw_times(lines, source=str(path))


def summarize(records: list[RawRequest], warmup_s: float) -> LoadStats:
    """Figures for requests started at least warmup_s after the first one; raises when none are left.

    rps is the measured requests over the span from the end of the warm-up to the last request's start.
    """
    if not records:
        raise HarnessError("the load run recorded no requests: did the locustfile write raw times?")
    first = min(record.start for record in records)
    window_start = first + warmup_s
    measured = [record for record in records if record.start >= window_start]
    if not measured:
        raise HarnessError(
            f"no request started after the {warmup_s:g} s warm-up (the run recorded {len(records)}, the "
            f"last {max(r.start for r in records) - first:.1f} s after the first): lengthen the run or "
            "shorten the warm-up"
        )
    window_s = max(record.start for record in measured) - window_start
    if window_s <= 0:
        raise HarnessError(f"only {len(measured)} request(s) after the warm-up: too few for a rate")
    times = sorted(record.response_ms for record in measured)
    return LoadStats(
        requests=len(measured),
        failures=sum(1 for record in records if not record.ok),
        window_s=window_s,
        rps=len(measured) / window_s,
        p50_ms=percentile(times, 50),
        p95_ms=percentile(times, 95),
        p99_ms=percentile(times, 99),
        response_times_ms=times,
    )
