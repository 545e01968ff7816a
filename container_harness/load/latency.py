"""Load figures from the raw response times a locustfile writes (pure): exact percentiles, rps, failures.

Locust's own percentiles are bucketed (rounded to 2 significant digits above 100 ms) and include the
warm-up; these are exact and cover only the measured window.

Raw-times file: one line per request, tab-separated: start (epoch seconds), request name, response time
(ms), ok (1 or 0), and in paced runs a fifth field, when it was sent: there start is the intended start and
the response time counts from it. The warm-up and the rate go by when requests were sent. The recorder
(container_harness.load.recorder) writes one file per process into the directory named by RAW_TIMES_DIR_ENV,
so processes never share a file; lines may be in any order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from container_harness.errors import LoadRunError
from container_harness.summary import percentile

# Directory the recorder writes its per-process raw-times files (times-<pid>.tsv) into.
RAW_TIMES_DIR_ENV = "HARNESS_LOCUST_TIMES_DIR"
RAW_TIMES_GLOB = "times-*.tsv"
# A distributed worker's id (w1, w2 … local, c1 … in containers): its recorder writes times-<id>-<pid>.tsv,
# leaves joined-<id> there once it joined its master, and cpu-<id> (its CPU seconds) when it quits.
WORKER_ID_ENV = "HARNESS_WORKER_ID"
JOINED_PREFIX = "joined-"
CPU_PREFIX = "cpu-"
# Requests per second each Locust process paces its users to (unset: closed loop).
PACED_RATE_ENV = "HARNESS_PACED_RATE"
# The percentiles reported per endpoint and overall, with max.
PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class RawRequest:
    """One request as the locustfile recorded it."""

    start: float
    name: str
    response_ms: float
    ok: bool
    sent: float | None = None  # when it was sent, if later than start (paced runs: start is the intended one)

    @property
    def sent_at(self) -> float:
        """When the request was sent."""
        return self.start if self.sent is None else self.sent


@dataclass(frozen=True)
class Latency:
    """Exact latency figures of one set of requests (one endpoint, or all of them) in the measured window."""

    requests: int
    failures: int
    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def to_report(self) -> dict[str, float | int]:
        """JSON-ready figures, milliseconds rounded to microseconds."""
        return {
            "requests": self.requests,
            "failures": self.failures,
            "rps": round(self.rps, 2),
            **{f"p{q}_ms": round(getattr(self, f"p{q}_ms"), 3) for q in PERCENTILES},
            "max_ms": round(self.max_ms, 3),
        }


@dataclass(frozen=True)
class LoadStats(Latency):
    """Figures of the measured window (after warm-up), overall and per request name in endpoints.

    failures counts the whole run, warm-up included (an endpoint's, only its measured window).
    """

    window_s: float
    response_times_ms: list[float]
    endpoints: dict[str, Latency]
    measured: list[RawRequest]


def parse_raw_times(lines: Iterable[str], source: str = "raw times") -> list[RawRequest]:
    """Records from raw-times lines; blank lines are skipped, a malformed one is an error naming it."""
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        try:
            start, name, response_ms, ok, *sent = fields
            if len(sent) > 1:
                raise ValueError("too many fields")
            records.append(
                RawRequest(float(start), name, float(response_ms), ok == "1", float(sent[0]) if sent else None)
            )
        except ValueError as exc:
            raise LoadRunError(
                f"{source} line {number} is not `start<TAB>name<TAB>ms<TAB>ok[<TAB>sent]`: {line.rstrip()!r}",
                hint="the harness's recorder writes this file; leave it to the recorder (do not write to it)",
            ) from exc
    return records


def read_raw_times(path: Path) -> list[RawRequest]:
    """Records from a raw-times file, or from every per-process file in a directory (module docstring)."""
    if path.is_dir():
        return [record for file in sorted(path.glob(RAW_TIMES_GLOB)) for record in read_raw_times(file)]
    with path.open() as lines:
        return parse_raw_times(lines, source=str(path))


def latency(records: list[RawRequest], window_s: float) -> Latency:
    """Exact percentiles, max and rate of a non-empty set of requests measured over window_s seconds."""
    times = sorted(record.response_ms for record in records)
    return Latency(
        requests=len(records),
        failures=sum(1 for record in records if not record.ok),
        rps=len(records) / window_s,
        p50_ms=percentile(times, 50),
        p90_ms=percentile(times, 90),
        p95_ms=percentile(times, 95),
        p99_ms=percentile(times, 99),
        max_ms=times[-1],
    )


def summarize(records: list[RawRequest], warmup_s: float) -> LoadStats:
    """Figures for requests sent at least warmup_s after the first one; raises when none are left.

    rps is the measured requests over the span from the end of the warm-up to the last request's sending.
    """
    if not records:
        raise LoadRunError(
            "the load run recorded no requests",
            hint="run the printed Locust command by hand: check the locustfile's host, tasks and that they send",
        )
    first = min(record.sent_at for record in records)
    window_start = first + warmup_s
    measured = [record for record in records if record.sent_at >= window_start]
    if not measured:
        raise LoadRunError(
            f"no request started after the {warmup_s:g} s warm-up (the run recorded {len(records)}, the "
            f"last {max(r.sent_at for r in records) - first:.1f} s after the first): lengthen the run or "
            "shorten the warm-up",
            hint="raise load.duration_s or lower load.warmup_s",
        )
    window_s = max(record.sent_at for record in measured) - window_start
    if window_s <= 0:
        raise LoadRunError(
            f"only {len(measured)} request(s) after the warm-up: too few for a rate",
            hint="raise load.duration_s or lower load.warmup_s",
        )
    overall = latency(measured, window_s)
    by_name: dict[str, list[RawRequest]] = {}
    for record in measured:
        by_name.setdefault(record.name, []).append(record)
    return LoadStats(
        **{**vars(overall), "failures": sum(1 for record in records if not record.ok)},
        window_s=window_s,
        response_times_ms=sorted(record.response_ms for record in measured),
        endpoints={name: latency(group, window_s) for name, group in sorted(by_name.items())},
        measured=sorted(measured, key=lambda record: record.start),
    )
