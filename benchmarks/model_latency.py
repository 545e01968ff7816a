"""Model time per prediction through service.predictor, one thread: `python -m benchmarks.model_latency`.

A benchmark, not a test: it prints median microseconds per single prediction and per 1000-row batch
(features included) for every committed model set. The issue's budget is 0.5 ms per single prediction.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Final

import numpy as np

from models import ONNX_DIR
from service.features import RAW_FIELDS
from service.model_store import load_model_set
from service.predictor import Predictor
from service.settings import MODEL_TYPES

BATCH_ROWS: Final[int] = 1000
SINGLE_REPEATS: Final[int] = 2000
BATCH_REPEATS: Final[int] = 100
WARMUP: Final[int] = 20


def typical_rows(metadata: dict[str, Any], rows: int, seed: int = 0) -> np.ndarray:
    """Raw rows drawn between the training data's p05 and p95 (categories by their shares)."""
    ranges = metadata["raw_input_ranges"]
    rng = np.random.default_rng(seed)
    columns = []
    for field in RAW_FIELDS:
        spec = ranges[field]
        if "shares" in spec:
            shares = np.array(list(spec["shares"].values()))
            columns.append(rng.choice(len(shares), size=rows, p=shares / shares.sum()).astype(np.float64))
        else:
            low, high = spec["quantiles"]["p05"], spec["quantiles"]["p95"]
            columns.append(rng.uniform(low, high, size=rows))
    raw = np.column_stack(columns)
    raw[:, RAW_FIELDS.index("nsm")] = np.floor(raw[:, RAW_FIELDS.index("nsm")] / 900.0) * 900.0
    return raw


def median_us(predictor: Predictor, raw: np.ndarray, repeats: int) -> float:
    """Median wall time of `predictor.predict(raw)` in microseconds."""
    for _ in range(WARMUP):
        predictor.predict(raw)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        predictor.predict(raw)
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000.0


def main() -> None:
    """Print the figures for every model set in models/onnx."""
    for model_type in MODEL_TYPES:
        model_set = load_model_set(ONNX_DIR, model_type)
        raw = typical_rows(model_set.metadata, BATCH_ROWS)
        single = median_us(model_set.predictor, raw[:1], SINGLE_REPEATS)
        batch = median_us(model_set.predictor, raw, BATCH_REPEATS)
        print(
            f"{model_type:<18} single: {single:8.1f} µs   batch of {BATCH_ROWS}: {batch:9.1f} µs "
            f"({batch / BATCH_ROWS:.2f} µs/row)"
        )


if __name__ == "__main__":
    main()
