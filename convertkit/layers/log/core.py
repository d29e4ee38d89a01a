"""``Log``: ``y = log_base(shift + scale * x)`` elementwise, ``base`` -1 meaning e (Caffe ``Log``; ONNX ``Log``
between scalar nodes).

``src/caffe/layers/log_layer.cpp``: ``LayerSetUp`` precomputes ``base_scale = 1`` for base -1, else
``1 / log(base)`` in the blob's dtype; ``Forward_cpu`` takes ``log(x)`` directly when ``scale == 1`` and
``shift == 0``, else scales, shifts and then takes the log, and multiplies by ``base_scale`` when it is not 1.
:func:`log` is that; ONNX is the same steps (``Mul``, ``Add``, ``Log``, ``Mul``, each only when needed).
``base`` must be -1 or positive and not 1 (Caffe CHECKs that ``base_scale`` is finite); fields are float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._scalar import float32_field

__all__ = ["Log", "log", "log_scale"]


def log_scale(base: float, dtype: Any) -> Any:
    """Caffe's ``base_scale`` in ``dtype``."""
    t = np.dtype(dtype).type
    return t(1) if base == -1 else t(t(1) / np.log(t(base)))


def log(x: np.ndarray, base: float = -1.0, scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
    """Caffe's ``LogLayer::Forward_cpu`` in ``x``'s dtype."""
    t = x.dtype.type
    y = x
    if scale != 1:
        y = y * t(scale)
    if shift != 0:
        y = y + t(shift)
    y = np.log(y)
    s = log_scale(base, x.dtype)
    return y if s == 1 else y * s


@dataclass(frozen=True, slots=True, kw_only=True)
class Log(UnaryLayer):
    """``output = log_base(shift + scale * input)`` (base -1: e), computed as Caffe does."""

    kind: ClassVar[str] = "Log"
    spatially_pointwise: ClassVar[bool] = True
    base: float = -1.0
    scale: float = 1.0
    shift: float = 0.0

    def __post_init__(self) -> None:
        self._check_io()
        for name in ("base", "scale", "shift"):
            object.__setattr__(self, name, float32_field(self, name, getattr(self, name)))
        if self.base != -1.0 and (self.base <= 0 or self.base == 1.0):
            raise self.error(
                f"base must be -1 (e) or positive and not 1 (Caffe CHECKs 1 / log(base) is finite), got {self.base!r}"
            )

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        return [inputs[0]]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [log(inputs[0], self.base, self.scale, self.shift)]
