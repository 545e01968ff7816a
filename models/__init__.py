"""Training of the service's ONNX models from the UCI steel-industry CSV (needs the `train` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

# The committed model sets, which the image embeds as /app/models/onnx.
ONNX_DIR: Final[Path] = Path(__file__).resolve().parent / "onnx"
