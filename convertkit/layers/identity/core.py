"""``Identity``: ``output = input`` — a Dropout at inference, where it passes its input through unchanged.

Both formats write it as a Dropout, which every inference runtime runs as a copy: ONNX ``Dropout`` without ``ratio``
and ``training_mode`` (inference), Caffe ``Dropout`` (OpenCV's reader runs it as a copy).  ONNX ``Identity`` is
not used: the ONNX importer resolves it by renaming values, which would drop the layer on a round trip and cannot
copy a graph input to a graph output.  A Caffe ``dropout_ratio`` is training provenance, kept in
``meta["caffe.dropout_ratio"]`` for the prototxt round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer

__all__ = ["Identity", "DROPOUT_RATIO"]

#: ``meta`` key of a Caffe Dropout's ``dropout_ratio`` (when the prototxt sets it).
DROPOUT_RATIO = "caffe.dropout_ratio"


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity(UnaryLayer):
    """``output = input`` (a copy)."""

    kind: ClassVar[str] = "Identity"
    spatially_pointwise: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._check_io()
        ratio = self.meta.get(DROPOUT_RATIO)
        if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, float) or not 0 <= ratio <= 1):
            raise self.error(f"meta {DROPOUT_RATIO} must be a float in [0, 1], got {ratio!r}")

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        return [inputs[0]]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [inputs[0].copy()]
