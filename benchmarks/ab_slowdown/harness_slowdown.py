"""A known slowdown for the A/B gate's sensitivity benchmark: HARNESS_SLOWDOWN_US microseconds of CPU per
prediction call, added to the API image by a layer (benchmarks/ab_slowdown/Dockerfile), never in the service.

Loaded at interpreter start by harness_slowdown.pth; it wraps service.predictor.Predictor.predict when that
module is first imported, and burns CPU time (thread_time, so waiting for a CPU does not count) after each call.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import time
from types import ModuleType
from typing import Any

_TARGET = "service.predictor"
_SPIN_S = float(os.environ.get("HARNESS_SLOWDOWN_US", "0")) / 1e6


def _burn(seconds: float) -> None:
    """Use `seconds` of this thread's CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


class _Finder(importlib.abc.MetaPathFinder):
    """Wraps the predictor's predict once its module has been executed."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name != _TARGET:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        original_exec = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original_exec(module)
            predict = module.Predictor.predict

            def slowed(self: Any, raw: Any) -> Any:
                result = predict(self, raw)
                _burn(_SPIN_S)
                return result

            module.Predictor.predict = slowed

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if _SPIN_S > 0:
    sys.meta_path.insert(0, _Finder())
