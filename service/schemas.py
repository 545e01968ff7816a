"""Request and response models of the API: units, ranges and clear 422 messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Final, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model
from pydantic_core import PydanticCustomError

from service.features import LOAD_TYPES
from service.model_store import ModelSetInfo, ModelSource

LoadType = Literal["Light", "Medium", "Maximum"]

_STRICT_INPUT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


def _fraction(value: float) -> float:
    """Reject power factors above 1, which are almost always percentages sent by mistake."""
    if value > 1.0:
        raise PydanticCustomError(
            "power_factor_fraction",
            "power factor must be a fraction between 0 and 1, got {value}: was it sent in percent? "
            "Divide by 100.",
            {"value": value},
        )
    return value


# Ceilings far above anything a plant logs per 15 minutes; they keep the float32 features finite.
MAX_REACTIVE_KVARH: Final[float] = 1e4
MAX_CO2_TONNES: Final[float] = 1e3
ReactiveEnergy = Annotated[float, Field(ge=0.0, le=MAX_REACTIVE_KVARH)]
PowerFactor = Annotated[float, Field(ge=0.0), AfterValidator(_fraction)]


class PredictionRequest(BaseModel):
    """One 15-minute interval of plant readings, as existing clients send it."""

    model_config = _STRICT_INPUT

    lagging_reactive_power: ReactiveEnergy = Field(description="Lagging current reactive power, kVarh")
    leading_reactive_power: ReactiveEnergy = Field(description="Leading current reactive power, kVarh")
    co2: float = Field(ge=0.0, le=MAX_CO2_TONNES, description="CO2 emissions, tCO2")
    lagging_power_factor: PowerFactor = Field(description="Lagging power factor, fraction 0-1")
    leading_power_factor: PowerFactor = Field(description="Leading power factor, fraction 0-1")
    nsm: int = Field(ge=0, le=86399, description="Seconds since midnight")
    day_of_week: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    load_type: LoadType = Field(description="Light, Medium or Maximum")


_LOAD_CODE: Final[dict[str, float]] = {name: float(code) for code, name in enumerate(LOAD_TYPES)}


def raw_matrix(requests: Sequence[PredictionRequest]) -> np.ndarray:
    """Requests as the float64 (N, 8) array build_features expects, columns in RAW_FIELDS order."""
    return np.array(
        [
            (
                r.lagging_reactive_power,
                r.leading_reactive_power,
                r.co2,
                r.lagging_power_factor,
                r.leading_power_factor,
                r.nsm,
                r.day_of_week,
                _LOAD_CODE[r.load_type],
            )
            for r in requests
        ],
        dtype=np.float64,
    )


class PredictionResponse(BaseModel):
    """One prediction and the model that made it."""

    predicted_usage_kwh: float
    model_type: str
    model_version: str


class BatchRequest(BaseModel):
    """Many requests answered by one vectorised model call; `batch_request_model` sets the limit."""

    model_config = _STRICT_INPUT

    predictions: list[PredictionRequest]


def batch_request_model(max_batch: int) -> type[BatchRequest]:
    """A BatchRequest whose list holds 1..max_batch items, so the limit shows in the OpenAPI schema."""
    items = Annotated[list[PredictionRequest], Field(min_length=1, max_length=max_batch)]
    model: type[BatchRequest] = create_model(
        "BatchRequest", __base__=BatchRequest, __doc__=BatchRequest.__doc__, predictions=(items, ...)
    )
    return model


class BatchItem(BaseModel):
    """One prediction inside a batch response."""

    predicted_usage_kwh: float


class BatchResponse(BaseModel):
    """Predictions in request order and the model that made them."""

    predictions: list[BatchItem]
    model_type: str
    model_version: str


class HealthResponse(BaseModel):
    """Which model serves, where it came from, and why a fallback happened."""

    status: Literal["healthy"]
    model_loaded: bool
    model_type: str
    model_version: str
    model_source: ModelSource
    model_path: str
    fallback_reason: str | None
    uptime_seconds: float


class ModelsResponse(BaseModel):
    """The model sets found in the chosen and the embedded directory."""

    active_model_type: str
    active_source: ModelSource
    model_sets: list[ModelSetInfo]
