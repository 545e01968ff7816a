"""Traffic on the energy API: single predictions on /predict_onnx with a share of batches.

Payloads are drawn once, with a fixed seed, from the value ranges stored in the model's metadata
(`raw_input_ranges`: min, max and quantiles p01..p99 per numeric field, `shares` per category for
day_of_week (by day name) and load_type), never from the data file. Users send requests back to back
(closed loop), so the run measures the service's capacity.

Standalone, against any host:
    locust -f benchmarks/locustfile.py --headless -u 10 -r 10 -t 30s --host http://127.0.0.1:8000
    HARNESS_LOAD_SCENARIO=health locust -f benchmarks/locustfile.py ...    # /health only: the floor

Environment (all optional):
    LOCUST_MODEL_METADATA  metadata.json with raw_input_ranges (default: the ensemble's, next to this repo)
    LOCUST_BATCH_SHARE     share of requests that are batches (default 0.1)
    LOCUST_BATCH_SIZE      rows per batch (default 50)
    LOCUST_SEED            seed of the payload pool (default 20240601)
    HARNESS_LOAD_SCENARIO  "predict" (default) or "health"
    HARNESS_HEALTH_PATH    path of the health endpoint (default /health)

Only traffic: the harness loads its recorder (container_harness/load/recorder.py) beside this file for exact
percentiles; by hand: locust -f container_harness/load/recorder.py,benchmarks/locustfile.py with
HARNESS_LOCUST_TIMES_DIR set.
"""

from __future__ import annotations

import bisect
import itertools
import json
import os
import random
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, task

HERE = Path(__file__).resolve().parent
METADATA = Path(
    os.environ.get("LOCUST_MODEL_METADATA", HERE.parent / "models/onnx/lightgbm_ensemble/metadata.json")
)
BATCH_SHARE = float(os.environ.get("LOCUST_BATCH_SHARE", "0.1"))
BATCH_SIZE = int(os.environ.get("LOCUST_BATCH_SIZE", "50"))
SEED = int(os.environ.get("LOCUST_SEED", "20240601"))
SCENARIO = os.environ.get("HARNESS_LOAD_SCENARIO", "predict")
HEALTH_PATH = os.environ.get("HARNESS_HEALTH_PATH", "/health")
POOL_SIZE = 2000

NON_NEGATIVE = ("lagging_reactive_power", "leading_reactive_power", "co2")
FRACTIONS = ("lagging_power_factor", "leading_power_factor")
QUANTILES = (
    (0.0, "min"),
    (0.01, "p01"),
    (0.05, "p05"),
    (0.25, "p25"),
    (0.5, "p50"),
    (0.75, "p75"),
    (0.95, "p95"),
    (0.99, "p99"),
    (1.0, "max"),
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # 0 = Monday
NSM_STEP = 900
NSM_LAST = 86400 - NSM_STEP


def _from_quantiles(ranges: dict[str, Any], rng: random.Random) -> float:
    """A draw whose distribution follows the stored quantiles (piecewise-linear inverse CDF)."""
    points = {"min": ranges["min"], "max": ranges["max"], **ranges["quantiles"]}
    probabilities = [q for q, _ in QUANTILES]
    values = [float(points[key]) for _, key in QUANTILES]
    u = rng.random()
    i = max(1, bisect.bisect_right(probabilities, u))
    low_p, high_p, low_v, high_v = probabilities[i - 1], probabilities[i], values[i - 1], values[i]
    return low_v + (high_v - low_v) * (u - low_p) / (high_p - low_p)


def _from_shares(shares: dict[str, float], rng: random.Random) -> str:
    """A category drawn with the stored shares."""
    names = sorted(shares)
    return rng.choices(names, weights=[shares[name] for name in names])[0]


def make_payloads(ranges: dict[str, Any], count: int, seed: int) -> list[dict[str, Any]]:
    """count request bodies that follow the stored marginal distributions, reproducible from the seed."""
    rng = random.Random(seed)
    payloads = []
    for _ in range(count):
        row: dict[str, Any] = {
            name: round(max(0.0, _from_quantiles(ranges[name], rng)), 2) for name in NON_NEGATIVE
        }
        for name in FRACTIONS:
            row[name] = round(min(1.0, max(0.0, _from_quantiles(ranges[name], rng))), 4)
        nsm = round(_from_quantiles(ranges["nsm"], rng) / NSM_STEP) * NSM_STEP
        row["nsm"] = min(max(nsm, 0), NSM_LAST)
        row["day_of_week"] = DAYS.index(_from_shares(ranges["day_of_week"]["shares"], rng))
        row["load_type"] = _from_shares(ranges["load_type"]["shares"], rng)
        payloads.append(row)
    return payloads


def _load_pool() -> list[dict[str, Any]]:
    """The payload pool, or an empty one for the health scenario (which needs no model metadata)."""
    if SCENARIO == "health":
        return []
    try:
        metadata = json.loads(METADATA.read_text())
    except FileNotFoundError as exc:
        raise SystemExit(f"model metadata {METADATA} not found: set LOCUST_MODEL_METADATA") from exc
    return make_payloads(metadata["raw_input_ranges"], POOL_SIZE, SEED)


POOL = _load_pool()


class ApiUser(FastHttpUser):
    """A client of the API; which requests it sends depends on HARNESS_LOAD_SCENARIO."""

    wait_time = constant(0)
    _numbers = itertools.count()

    def on_start(self) -> None:
        # Each user walks the shared pool from its own place, so users do not send identical sequences.
        self._rng = random.Random(SEED + next(self._numbers))
        self._next = self._rng.randrange(max(len(POOL), 1))

    def _payload(self) -> dict[str, Any]:
        self._next = (self._next + 1) % len(POOL)
        return POOL[self._next]

    @task
    def request(self) -> None:
        if SCENARIO == "health":
            self.client.get(HEALTH_PATH, name=HEALTH_PATH)
        elif self._rng.random() < BATCH_SHARE:
            rows = [self._payload() for _ in range(BATCH_SIZE)]
            self.client.post("/predict_onnx/batch", json={"predictions": rows}, name="/predict_onnx/batch")
        else:
            self.client.post("/predict_onnx", json=self._payload(), name="/predict_onnx")
