"""Prediction requests shared by the service's tests: one ordinary, and varied ones (made up, not rows of the data).

Importable from any test module because tests/ holds the root conftest.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from service.features import LOAD_TYPES

# An ordinary mid-shift interval on a Wednesday, as existing clients send it.
EXAMPLE: Final[dict[str, Any]] = {
    "lagging_reactive_power": 23.45,
    "leading_reactive_power": 0.0,
    "co2": 0.02,
    "lagging_power_factor": 0.78,
    "leading_power_factor": 1.0,
    "nsm": 36000,
    "day_of_week": 2,
    "load_type": "Medium",
}


def varied_requests(count: int) -> list[dict[str, Any]]:
    """Deterministic, varied requests across the contract's ranges (synthetic, not rows of the data)."""
    rng = np.random.default_rng(20261126)
    return [
        {
            "lagging_reactive_power": round(float(rng.uniform(0, 90)), 2),
            "leading_reactive_power": round(float(rng.uniform(0, 25)), 2),
            "co2": round(float(rng.uniform(0, 0.07)), 2),
            "lagging_power_factor": round(float(rng.uniform(0.4, 1.0)), 4),
            "leading_power_factor": round(float(rng.uniform(0.15, 1.0)), 4),
            "nsm": int(rng.integers(0, 96)) * 900,
            "day_of_week": int(rng.integers(0, 7)),
            "load_type": LOAD_TYPES[int(rng.integers(0, 3))],
        }
        for _ in range(count)
    ]
