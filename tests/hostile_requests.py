"""Seeded bad request bodies for the prediction API, each with the field it breaks (None: no single field).

Shared by the in-process fuzz tests (tests/unit/service/test_fuzz.py) and the locked-down container
(tests/container/test_hardening.py); importable because tests/ holds the root conftest.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any, Final

from tests.example_request import EXAMPLE

CONTENT_TYPES: Final[tuple[str, ...]] = ("application/json", "text/plain", "application/octet-stream", "")

# Each mutation breaks exactly one field of a valid request and returns its name.
Mutation = Callable[[random.Random, dict[str, Any]], str]


def _drop(rng: random.Random, body: dict[str, Any]) -> str:
    field = rng.choice(list(EXAMPLE))
    del body[field]
    return field


def _extra(rng: random.Random, body: dict[str, Any]) -> str:
    field = rng.choice(["usage_kwh", "Usage_kWh", "model", "lagging_reactive_power_kvarh", "x" * 300, ""])
    body[field] = rng.choice([1, "a", None, [], {}])
    return field


def _wrong_type(rng: random.Random, body: dict[str, Any]) -> str:
    field = rng.choice(list(EXAMPLE))
    wrong: list[Any] = [None, [], {}, [1.0], {"value": 1}, True]
    wrong += ["3", "", "NaN"] if field != "load_type" else [3, 0.5, "LIGHT", "Light ", ""]
    if field in ("nsm", "day_of_week"):
        wrong += [1.5, 3600.25]
    body[field] = rng.choice(wrong)
    return field


def _out_of_range(rng: random.Random, body: dict[str, Any]) -> str:
    limits: dict[str, tuple[Any, ...]] = {
        "lagging_reactive_power": (-0.001, -1e30),
        "leading_reactive_power": (-5.0,),
        "co2": (-1e-9,),
        "lagging_power_factor": (-0.5, 1.0001, 78.0, 1e300),
        "leading_power_factor": (-1.0, 100.0),
        "nsm": (-1, 86400, 10**12, -(10**30)),
        "day_of_week": (-1, 7, 2**63),
        "load_type": ("Heavy", "maximum", "Light\x00", "\u216dedium"),
    }
    field = rng.choice(list(limits))
    body[field] = rng.choice(limits[field])
    return field


MUTATIONS: Final[tuple[Mutation, ...]] = (_drop, _extra, _wrong_type, _out_of_range)


def bad_json_bodies(count: int, seed: int) -> list[tuple[str, str]]:
    """`count` (JSON text, field at fault) pairs, reproducible from `seed`; some carry non-finite numbers."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        body = dict(EXAMPLE)
        if rng.random() < 0.15:
            field = rng.choice([name for name, value in EXAMPLE.items() if not isinstance(value, str)])
            body[field] = "NONFINITE"
            literal = rng.choice(["NaN", "Infinity", "-Infinity", "1e309", "-1e400"])
            bodies.append((json.dumps(body).replace('"NONFINITE"', literal), field))
            continue
        field = rng.choice(MUTATIONS)(rng, body)
        bodies.append((json.dumps(body), field))
    return bodies


def garbage_bodies(count: int, seed: int) -> list[tuple[bytes, str]]:
    """`count` (random bytes up to 2 KiB, content type) pairs, reproducible from `seed`."""
    rng = random.Random(seed)
    return [(rng.randbytes(rng.randint(0, 2048)), rng.choice(CONTENT_TYPES)) for _ in range(count)]


def blamed_fields(detail: Any) -> list[str]:
    """The field names a 422's `detail` blames (the last element of each error location)."""
    return [str(error["loc"][-1]) for error in detail]
