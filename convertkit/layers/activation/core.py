"""``Activation``: one elementwise function of one input, ``function`` naming it, ``alpha`` its one parameter.

One kind rather than five: they share everything but the formula (one input, the output of the same type, no
blobs), and each function has one spelling in the IR whatever format it came from — ONNX ``Relu`` and
``LeakyRelu`` with ``alpha 0`` and Caffe ``ReLU`` with ``negative_slope 0`` are all ``relu`` without ``alpha``.
``alpha`` is ONNX's name: the negative slope of ``relu`` (Caffe ``negative_slope``, default 0), the scale of
``elu``'s negative side (Caffe ``alpha``, default 1); the other functions have none.  A value equal to the
function's default is stored as None, and every value is rounded to float32, the type both formats store it in.

The formulas (:func:`relu`, :func:`sigmoid`, :func:`tanh`, :func:`elu`, :func:`absolute`) are ONNX's and Caffe's
definitions, computed in the input's dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer

__all__ = ["Activation", "FUNCTIONS", "relu", "sigmoid", "tanh", "elu", "absolute"]


def relu(x: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    """``x`` where ``x > 0``, else ``alpha * x`` (Caffe: ``max(x, 0) + negative_slope * min(x, 0)``)."""
    return np.where(x > 0, x, x * x.dtype.type(alpha))


def sigmoid(x: np.ndarray, alpha: float | None = None) -> np.ndarray:
    """``1 / (1 + exp(-x))``, through ``z = exp(-|x|)`` so that no ``exp`` overflows (``z / (1 + z)`` for
    ``x < 0``)."""
    one = x.dtype.type(1)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, one / (one + z), z / (one + z))


def tanh(x: np.ndarray, alpha: float | None = None) -> np.ndarray:
    """``tanh(x)``."""
    return np.tanh(x)


def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    return np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0)))


def absolute(x: np.ndarray, alpha: float | None = None) -> np.ndarray:
    """``|x|``."""
    return np.abs(x)


#: function -> (formula, default alpha or None when the function takes none).
FUNCTIONS: dict[str, tuple[Callable[..., np.ndarray], float | None]] = {
    "relu": (relu, 0.0),
    "sigmoid": (sigmoid, None),
    "tanh": (tanh, None),
    "elu": (elu, 1.0),
    "abs": (absolute, None),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Activation(UnaryLayer):
    """``output = function(input)`` elementwise; ``alpha`` for ``relu`` (negative slope) and ``elu``."""

    kind: ClassVar[str] = "Activation"
    spatially_pointwise: ClassVar[bool] = True
    function: str = field(metadata={"schema": {"enum": list(FUNCTIONS)}})
    alpha: float | None = None

    def __post_init__(self) -> None:
        self._check_io()
        if self.function not in FUNCTIONS:
            raise self.error(f"function must be one of {', '.join(FUNCTIONS)}, got {self.function!r}")
        default = FUNCTIONS[self.function][1]
        if self.alpha is None:
            return
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not math.isfinite(self.alpha):
            raise self.error(f"alpha must be a finite number, got {self.alpha!r}")
        if default is None:
            raise self.error(f"{self.function} takes no alpha, got {self.alpha!r}; drop it")
        alpha = float(np.float32(self.alpha))
        object.__setattr__(self, "alpha", None if alpha == default else alpha)

    @property
    def parameter(self) -> float | None:
        """``alpha``, or the function's default when it has one."""
        return FUNCTIONS[self.function][1] if self.alpha is None else self.alpha

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        return [inputs[0]]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        formula, _ = FUNCTIONS[self.function]
        return [formula(inputs[0], self.parameter)]
