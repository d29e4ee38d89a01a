"""``Exp``: ``y = base ^ (shift + scale * x)`` elementwise, ``base`` -1 meaning e (Caffe ``Exp``; ONNX ``Exp``
between scalar ``Mul`` nodes).

Caffe does not compute the power as written.  ``src/caffe/layers/exp_layer.cpp`` (``LayerSetUp``) precomputes, in
the blob's dtype, ``inner_scale = log_base * scale`` (``log_base`` = 1 exactly for base -1, else ``log(base)``) and
``outer_scale = 1`` when ``shift == 0``, else ``base ^ shift`` (``exp(shift)`` for base -1); ``Forward_cpu`` is
``exp(x)`` (``inner_scale == 1``) or ``exp(inner_scale * x)``, then times ``outer_scale`` when it is not 1.
:func:`exp` is that; ONNX is the same three steps (``Mul`` by inner, ``Exp``, ``Mul`` by outer, each only when
needed).  ``base`` must be -1 or positive (Caffe CHECKs it); fields are rounded to float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._scalar import float32_field

__all__ = ["Exp", "exp", "exp_scales"]


def exp_scales(base: float, scale: float, shift: float, dtype: Any) -> tuple[Any, Any]:
    """Caffe's ``(inner_scale, outer_scale)`` in ``dtype``."""
    t = np.dtype(dtype).type
    log_base = t(1) if base == -1 else np.log(t(base))
    inner = t(log_base * t(scale))
    if shift == 0:
        outer = t(1)
    else:
        outer = np.exp(t(shift)) if base == -1 else np.power(t(base), t(shift))
    return inner, t(outer)


def exp(x: np.ndarray, base: float = -1.0, scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
    """Caffe's ``ExpLayer::Forward_cpu`` in ``x``'s dtype."""
    inner, outer = exp_scales(base, scale, shift, x.dtype)
    y = np.exp(x) if inner == 1 else np.exp(x * inner)
    return y if outer == 1 else y * outer


@dataclass(frozen=True, slots=True, kw_only=True)
class Exp(UnaryLayer):
    """``output = base ^ (shift + scale * input)`` (base -1: e), computed as Caffe does."""

    kind: ClassVar[str] = "Exp"
    spatially_pointwise: ClassVar[bool] = True
    base: float = -1.0
    scale: float = 1.0
    shift: float = 0.0

    def __post_init__(self) -> None:
        self._check_io()
        for name in ("base", "scale", "shift"):
            object.__setattr__(self, name, float32_field(self, name, getattr(self, name)))
        if self.base != -1.0 and self.base <= 0:
            raise self.error(f"base must be -1 (e) or positive (Caffe's CHECK), got {self.base!r}")

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        return [inputs[0]]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [exp(inputs[0], self.base, self.scale, self.shift)]
