"""``Power``: ``y = (shift + scale * x) ^ power`` elementwise (Caffe ``Power``; ONNX ``Mul`` -> ``Add`` -> ``Pow``
by scalars).

Caffe's rule, from ``src/caffe/layers/power_layer.cpp`` (``Forward_cpu``): when ``power * scale == 0`` (the
"diff scale") the output is the constant ``1`` (``power == 0``) or ``shift ^ power`` (``scale == 0``), whatever
the input; otherwise the input is scaled (if ``scale != 1``), shifted (if ``shift != 0``) and raised (if
``power != 1``), in that order, each step rounded to the dtype.  :func:`power` computes exactly that.  Every field
is rounded to float32, the type ``PowerParameter`` stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._scalar import float32_field

__all__ = ["Power", "power"]


def power(x: np.ndarray, power: float = 1.0, scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
    """Caffe's ``PowerLayer::Forward_cpu`` in ``x``'s dtype."""
    t = x.dtype.type
    if t(power) * t(scale) == 0:
        value = t(1) if power == 0 else np.power(t(shift), t(power))
        return np.full_like(x, value)
    y = x
    if scale != 1:
        y = y * t(scale)
    if shift != 0:
        y = y + t(shift)
    if power != 1:
        y = np.power(y, t(power))
    return y


@dataclass(frozen=True, slots=True, kw_only=True)
class Power(UnaryLayer):
    """``output = (shift + scale * input) ^ power`` (Caffe's defaults: power 1, scale 1, shift 0)."""

    kind: ClassVar[str] = "Power"
    spatially_pointwise: ClassVar[bool] = True
    power: float = 1.0
    scale: float = 1.0
    shift: float = 0.0

    def __post_init__(self) -> None:
        self._check_io()
        for name in ("power", "scale", "shift"):
            object.__setattr__(self, name, float32_field(self, name, getattr(self, name)))

    @property
    def is_copy(self) -> bool:
        """All defaults: the output is the input."""
        return self.power == 1.0 and self.scale == 1.0 and self.shift == 0.0

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        return [inputs[0]]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [power(inputs[0], self.power, self.scale, self.shift)]
