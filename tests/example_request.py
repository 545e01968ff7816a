"""One ordinary prediction request shared by the service's tests (made up, not a row of the data set).

Importable from any test module because tests/ holds the root conftest.
"""

from __future__ import annotations

from typing import Any, Final

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
