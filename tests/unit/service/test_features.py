"""Feature engineering: row-stable, typed, the physics feature right and finite at pf = 1."""

from __future__ import annotations

import numpy as np
import pytest

from service.features import (
    FEATURE_NAMES,
    FEATURE_UNITS,
    LOAD_TYPES,
    PF_CLIP,
    RAW_FIELDS,
    build_features,
)

# Varied intervals in RAW_FIELDS order: light night, medium weekday, maximum weekend, pf = 1 edges.
ROWS = np.array(
    [
        [2.95, 0.0, 0.0, 0.7321, 1.0, 900.0, 0.0, 0.0],
        [23.4, 0.0, 0.02, 0.8734, 1.0, 36000.0, 2.0, 1.0],
        [41.2, 3.1, 0.05, 0.9012, 0.9963, 54000.0, 5.0, 2.0],
        [0.0, 12.5, 0.0, 1.0, 0.4712, 86399.0, 6.0, 0.0],
        [5.0, 0.0, 0.0, 1.0, 1.0, 0.0, 3.0, 1.0],
    ]
)


def column(name: str) -> int:
    """Position of a feature in the model input."""
    return FEATURE_NAMES.index(name)


def test_one_row_equals_the_same_row_inside_a_batch() -> None:
    batch = build_features(ROWS)
    for i in range(len(ROWS)):
        np.testing.assert_array_equal(build_features(ROWS[i : i + 1])[0], batch[i])


def test_shape_dtype_and_names() -> None:
    features = build_features(ROWS)
    assert features.shape == (len(ROWS), len(FEATURE_NAMES))
    assert features.dtype == np.float32
    assert FEATURE_NAMES[: len(RAW_FIELDS)] == RAW_FIELDS
    assert set(FEATURE_NAMES) == set(FEATURE_UNITS)
    assert LOAD_TYPES == ("Light", "Medium", "Maximum")


def test_raw_fields_pass_through_unchanged() -> None:
    np.testing.assert_array_equal(build_features(ROWS)[:, : len(RAW_FIELDS)], ROWS.astype(np.float32))


def test_lagging_active_energy_on_a_hand_computed_row() -> None:
    # Q = 3 kVarh at pf 0.6: P = 3 * 0.6 / sqrt(1 - 0.36) = 1.8 / 0.8 = 2.25 kWh.
    row = np.array([[3.0, 0.0, 0.0, 0.6, 1.0, 0.0, 0.0, 0.0]])
    assert build_features(row)[0, column("lagging_active_energy")] == pytest.approx(2.25, rel=1e-6)


def test_leading_active_energy_on_a_hand_computed_row() -> None:
    # Q = 4 kVarh at pf 0.8: P = 4 * 0.8 / 0.6 = 5.333… kWh.
    row = np.array([[0.0, 4.0, 0.0, 1.0, 0.8, 0.0, 0.0, 0.0]])
    assert build_features(row)[0, column("leading_active_energy")] == pytest.approx(16.0 / 3.0, rel=1e-6)


def test_power_factor_one_is_clipped_to_a_finite_value() -> None:
    features = build_features(ROWS)
    assert np.all(np.isfinite(features))
    expected = 5.0 * PF_CLIP / np.sqrt(1.0 - PF_CLIP**2)
    assert features[4, column("lagging_active_energy")] == pytest.approx(expected, rel=1e-6)


def test_time_of_day_and_weekend_features() -> None:
    features = build_features(ROWS)
    # Row 1 is 10:00 on a Wednesday, row 2 15:00 on a Saturday, row 3 23:59:59 on a Sunday.
    assert features[1, column("hour")] == 10.0
    assert features[2, column("hour")] == 15.0
    assert features[3, column("hour")] == 23.0
    assert features[1, column("time_of_day_sin")] == pytest.approx(np.sin(2 * np.pi * 10 / 24), abs=1e-6)
    assert features[2, column("time_of_day_cos")] == pytest.approx(np.cos(2 * np.pi * 15 / 24), abs=1e-6)
    assert features[:, column("is_weekend")].tolist() == [0.0, 0.0, 1.0, 1.0, 0.0]


def test_wrong_width_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"shape \(N, 8\)"):
        build_features(np.zeros((2, 7)))
