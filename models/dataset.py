"""Read the UCI steel-industry CSV into the service's raw layout and split it chronologically."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from service.features import LOAD_TYPES, RAW_FIELDS

TARGET_COLUMN: Final[str] = "Usage_kWh"
# CSV column for each raw field, and the factor that turns the file's unit into the service's.
CSV_COLUMNS: Final[dict[str, tuple[str, float]]] = {
    "lagging_reactive_power": ("Lagging_Current_Reactive.Power_kVarh", 1.0),
    "leading_reactive_power": ("Leading_Current_Reactive_Power_kVarh", 1.0),
    "co2": ("CO2(tCO2)", 1.0),
    "lagging_power_factor": ("Lagging_Current_Power_Factor", 0.01),
    "leading_power_factor": ("Leading_Current_Power_Factor", 0.01),
    "nsm": ("NSM", 1.0),
}
# Some published copies spell the lagging column with an underscore instead of a dot.
COLUMN_ALIASES: Final[dict[str, str]] = {
    "Lagging_Current_Reactive_Power_kVarh": "Lagging_Current_Reactive.Power_kVarh",
}
DAY_NAMES: Final[tuple[str, ...]] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
HOLDOUT_FRACTION: Final[float] = 0.2


@dataclass(frozen=True)
class SteelData:
    """Rows in chronological order: raw inputs (N, 8) in RAW_FIELDS order, target kWh, timestamps."""

    raw: np.ndarray
    target: np.ndarray
    timestamps: pd.DatetimeIndex
    sha256: str


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, recorded so a model names the exact data it learned from."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def interval_end(dates: pd.Series) -> pd.DatetimeIndex:
    """Timestamps of interval ends: the file labels a day's last interval `dd/mm/yyyy 00:00` of that day."""
    stamps = pd.to_datetime(dates, format="%d/%m/%Y %H:%M")
    midnight = (stamps.dt.hour == 0) & (stamps.dt.minute == 0)
    return pd.DatetimeIndex(stamps + pd.to_timedelta(midnight.astype(int), unit="D"))


def load_steel_csv(path: Path) -> SteelData:
    """Read the CSV, convert units to the service's (power factors as fractions), sort by time."""
    frame = pd.read_csv(path).rename(columns=COLUMN_ALIASES)
    timestamps = interval_end(frame["date"])
    order = np.argsort(timestamps.to_numpy(), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    columns = {
        field: frame[name].to_numpy(np.float64) * factor for field, (name, factor) in CSV_COLUMNS.items()
    }
    columns["day_of_week"] = _codes(frame["Day_of_week"], DAY_NAMES)
    columns["load_type"] = _codes(frame["Load_Type"].str.removesuffix("_Load"), LOAD_TYPES)
    raw = np.column_stack([columns[field] for field in RAW_FIELDS])
    return SteelData(
        raw=raw,
        target=frame[TARGET_COLUMN].to_numpy(np.float64),
        timestamps=timestamps[order],
        sha256=file_sha256(path),
    )


def chronological_split(rows: int, holdout: float = HOLDOUT_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first (1 - holdout) rows for training and the last `holdout` rows for testing."""
    cut = round(rows * (1.0 - holdout))
    return np.arange(cut), np.arange(cut, rows)


def random_split(rows: int, seed: int, holdout: float = HOLDOUT_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random train and test indices, each sorted, with `holdout` of the rows for testing."""
    permutation = np.random.default_rng(seed).permutation(rows)
    cut = round(rows * (1.0 - holdout))
    return np.sort(permutation[:cut]), np.sort(permutation[cut:])


def _codes(values: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """Index of each value in `names`; an unknown value is an error naming it."""
    lookup = {name: float(code) for code, name in enumerate(names)}
    unknown = sorted(set(values) - set(lookup))
    if unknown:
        raise ValueError(f"unexpected values {unknown}; expected one of {list(names)}")
    codes: np.ndarray = values.map(lookup).to_numpy(np.float64)
    return codes
