"""Feature engineering shared by training and serving: raw readings → the float32 model input."""

from __future__ import annotations

from typing import Final

import numpy as np

FEATURE_ENGINEERING_VERSION: Final[str] = "1"

RAW_FIELDS: Final[tuple[str, ...]] = (
    "lagging_reactive_power",
    "leading_reactive_power",
    "co2",
    "lagging_power_factor",
    "leading_power_factor",
    "nsm",
    "day_of_week",
    "load_type",
)
LOAD_TYPES: Final[tuple[str, ...]] = ("Light", "Medium", "Maximum")

FEATURE_UNITS: Final[dict[str, str]] = {
    "lagging_reactive_power": "kVarh",
    "leading_reactive_power": "kVarh",
    "co2": "tCO2",
    "lagging_power_factor": "fraction",
    "leading_power_factor": "fraction",
    "nsm": "s",
    "day_of_week": "0=Monday..6=Sunday",
    "load_type": "index into LOAD_TYPES",
    "hour": "h",
    "time_of_day_sin": "1",
    "time_of_day_cos": "1",
    "is_weekend": "0/1",
    "lagging_active_energy": "kWh",
    "leading_active_energy": "kWh",
}
FEATURE_NAMES: Final[tuple[str, ...]] = tuple(FEATURE_UNITS)

# Highest power factor used in P = Q·pf/sqrt(1 - pf²): the data holds percent with two decimals,
# so 0.9999 is the largest value below 1, and clipping there keeps pf = 1 finite.
PF_CLIP: Final[float] = 0.9999
SECONDS_PER_DAY: Final[float] = 86400.0
_SATURDAY: Final[int] = 5


def active_energy(reactive: np.ndarray, power_factor: np.ndarray) -> np.ndarray:
    """Active energy implied by reactive energy and power factor: P = Q·pf/sqrt(1 - pf²)."""
    pf = np.clip(power_factor, 0.0, PF_CLIP)
    result: np.ndarray = reactive * pf / np.sqrt(1.0 - pf * pf)
    return result


def build_features(raw: np.ndarray) -> np.ndarray:
    """Float32 (N, len(FEATURE_NAMES)) features from float64 (N, 8) raw rows in RAW_FIELDS order.

    Purely row-wise and vectorised, so a row gives the same features alone and inside a batch. Each column
    is computed in float64 and rounded to float32 as it is written; few NumPy calls, since a one-row request
    pays a fixed cost per call.
    """
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim != 2 or raw.shape[1] != len(RAW_FIELDS):
        raise ValueError(f"raw input must have shape (N, {len(RAW_FIELDS)}), got {raw.shape}")
    nsm = raw[:, 5]
    angle = 2.0 * np.pi * nsm / SECONDS_PER_DAY
    features = np.empty((raw.shape[0], len(FEATURE_NAMES)), dtype=np.float32)
    features[:, : len(RAW_FIELDS)] = raw
    features[:, 8] = np.floor(nsm / 3600.0)
    features[:, 9] = np.sin(angle)
    features[:, 10] = np.cos(angle)
    features[:, 11] = raw[:, 6] >= _SATURDAY
    # Lagging and leading together: reactive energy in columns 0-1, their power factors in 3-4.
    features[:, 12:] = active_energy(raw[:, 0:2], raw[:, 3:5])
    return features
