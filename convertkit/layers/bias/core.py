"""``Bias``: add a per-channel constant, ``y[n, c, ...] = x[n, c, ...] + bias[c]``.

The bias of a Deconvolution whose output_padding onnxruntime cannot take as an attribute goes on after the
appended rows (:mod:`convertkit.passes`).  ONNX: ``Add`` with a ``(1, C, 1, ...)`` constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...fillers import (
    Filler,
    Values,
    WeightSource,
)
from ...ir import TensorType, UnaryLayer

__all__ = ["Bias"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Bias(UnaryLayer):
    """``output = input + bias`` broadcast along the channel axis (axis 1); ``bias`` has shape ``(C,)``."""

    kind: ClassVar[str] = "Bias"
    spatially_pointwise: ClassVar[bool] = True
    bias: WeightSource

    def __post_init__(self) -> None:
        self._check_io()
        if not isinstance(self.bias, (Filler, Values)):
            raise self.error(f"bias must be a Filler or Values, got {type(self.bias).__name__}")
        if isinstance(self.bias, Filler) and self.bias.type == "bilinear":
            raise self.error("the bilinear filler fills kernels; a bias (C,) has no spatial axes")
        if isinstance(self.bias, Values) and self.bias.array.ndim != 1:
            raise self.error(f"bias must have shape (C,), got {tuple(self.bias.array.shape)}")

    def parameter_shapes(self, inputs: list[TensorType]) -> list[tuple[int, ...]]:
        return [(inputs[0].shape[1],)]

    def bias_array(self, channels: int, dtype: Any = np.float32) -> np.ndarray:
        """The materialised bias ``(C,)``."""
        return self.bias.materialize((channels,), dtype)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        if len(x.shape) < 2:
            raise self.error(f"input {self.input!r} has shape {list(x.shape)}; Bias needs (N, C, ...)")
        if isinstance(self.bias, Values) and self.bias.array.shape != (x.shape[1],):
            raise self.error(
                f"bias has shape {tuple(self.bias.array.shape)}, the input {list(x.shape)} has {x.shape[1]} channels"
            )
        return [x]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        (x,) = inputs
        b = self.bias_array(x.shape[1], x.dtype).reshape((1, x.shape[1]) + (1,) * (x.ndim - 2))
        return [x + b]
