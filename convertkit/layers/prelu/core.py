"""``PReLU``: ``y = x`` where ``x > 0``, else ``slope[c] * x``, with ``slope`` of shape ``(C,)`` — or ``(1,)``,
one slope for every channel (Caffe ``channel_shared``).

ONNX: ``PRelu`` with the slope as a ``(C, 1, ...)`` (or ``(1,)``) initializer, broadcast from the channel axis.
Caffe: ``PReLU`` with the slope blob ``(C,)`` (``channel_shared``: ``(1,)``) in the caffemodel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...fillers import Filler, Values, WeightSource
from ...ir import TensorType, UnaryLayer

__all__ = ["PReLU", "prelu"]


def prelu(x: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """``x`` where ``x > 0``, else ``slope * x``, ``slope`` ``(C,)`` or ``(1,)`` along axis 1."""
    s = slope.astype(x.dtype).reshape((1, slope.size) + (1,) * (x.ndim - 2))
    return np.where(x > 0, x, x * s)


@dataclass(frozen=True, slots=True, kw_only=True)
class PReLU(UnaryLayer):
    """Leaky ReLU whose negative slopes ``slope`` are per channel, or one shared (``channel_shared``)."""

    kind: ClassVar[str] = "PReLU"
    spatially_pointwise: ClassVar[bool] = True
    slope: WeightSource
    channel_shared: bool = False

    def __post_init__(self) -> None:
        self._check_io()
        if not isinstance(self.slope, (Filler, Values)):
            raise self.error(f"slope must be a Filler or Values, got {type(self.slope).__name__}")
        if isinstance(self.slope, Filler) and self.slope.type == "bilinear":
            raise self.error("the bilinear filler fills kernels; a slope (C,) has no spatial axes")
        if not isinstance(self.channel_shared, bool):
            raise self.error(f"channel_shared must be true or false, got {self.channel_shared!r}")
        if isinstance(self.slope, Values):
            shape = tuple(self.slope.array.shape)
            if len(shape) != 1 or (self.channel_shared and shape != (1,)):
                want = "(1,) (channel_shared)" if self.channel_shared else "(C,)"
                raise self.error(f"slope must have shape {want}, got {shape}")

    def parameter_shapes(self, inputs: list[TensorType]) -> list[tuple[int, ...]]:
        return [(1,) if self.channel_shared else (inputs[0].shape[1],)]

    def slope_array(self, channels: int, dtype: Any = np.float32) -> np.ndarray:
        """The materialised slope: ``(1,)`` when shared, else ``(C,)``."""
        return self.slope.materialize((1,) if self.channel_shared else (channels,), dtype)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        if len(x.shape) < 2:
            raise self.error(f"input {self.input!r} has shape {list(x.shape)}; PReLU needs (N, C, ...)")
        if isinstance(self.slope, Values) and not self.channel_shared and self.slope.array.shape != (x.shape[1],):
            raise self.error(
                f"slope has shape {tuple(self.slope.array.shape)}, the input {list(x.shape)} has {x.shape[1]} "
                "channels (or set channel_shared with one slope)"
            )
        return [x]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        (x,) = inputs
        return [prelu(x, self.slope_array(x.shape[1], x.dtype))]
