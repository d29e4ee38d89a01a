"""``Eltwise``: Caffe's Eltwise — ``sum`` (each input times its ``coeff``), ``prod`` or ``max`` of two or more
inputs of the same shape and dtype (no broadcasting, as in Caffe).

``coeff`` is one float per input, ``sum`` only; all ones is stored as ``()`` (one IR value per meaning) and each
coefficient is rounded to float32, the type Caffe stores it in.  ONNX: ``Sum`` (``Sub`` for coefficients
``(1, -1)``; ``Mul`` by each other coefficient first), ``Mul`` (a chain for more than two inputs), ``Max``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from typing import ClassVar

import numpy as np

from ...ir import Layer, TensorType
from .._fields import check_name, float_tuple

__all__ = ["Eltwise", "OPERATIONS", "eltwise_sum", "eltwise_prod", "eltwise_max"]

OPERATIONS: tuple[str, ...] = ("sum", "prod", "max")


def eltwise_sum(xs: list[np.ndarray], coeff: tuple[float, ...] = ()) -> np.ndarray:
    """``sum(coeff[i] * xs[i])`` in the inputs' dtype, left to right (coefficient 1: the input as it is)."""
    terms = [x if not coeff or coeff[i] == 1.0 else x * x.dtype.type(coeff[i]) for i, x in enumerate(xs)]
    return reduce(np.add, terms)


def eltwise_prod(xs: list[np.ndarray]) -> np.ndarray:
    """``xs[0] * xs[1] * ...`` left to right."""
    return reduce(np.multiply, xs)


def eltwise_max(xs: list[np.ndarray]) -> np.ndarray:
    """The elementwise maximum."""
    return reduce(np.maximum, xs)


@dataclass(frozen=True, slots=True, kw_only=True)
class Eltwise(Layer):
    """``operation`` (sum, prod, max) of ``input_names`` into ``output``; ``coeff`` weighs a sum's inputs."""

    kind: ClassVar[str] = "Eltwise"
    spatially_pointwise: ClassVar[bool] = True
    name: str
    input_names: tuple[str, ...]
    output: str = ""
    operation: str = field(default="sum", metadata={"schema": {"enum": list(OPERATIONS)}})
    coeff: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        self._normalise_meta()
        check_name(self.kind, self.name)
        names = tuple(self.input_names)
        if len(names) < 2:
            raise self.error(f"needs at least two inputs (Caffe's rule), got {len(names)}; a copy needs no Eltwise")
        for n in names:
            check_name(self.kind, n, "input")
        object.__setattr__(self, "input_names", names)
        if not self.output:
            object.__setattr__(self, "output", self.name)
        check_name(self.kind, self.output, "output")
        if self.operation not in OPERATIONS:
            raise self.error(f"operation must be one of {', '.join(OPERATIONS)}, got {self.operation!r}")
        coeff = float_tuple(self.name, self.kind, "coeff", self.coeff)
        if coeff and self.operation != "sum":
            raise self.error(f"coeff {list(coeff)} applies to operation sum only, not {self.operation}; drop it")
        if coeff and len(coeff) != len(names):
            raise self.error(f"coeff needs one value per input ({len(names)}), got {len(coeff)}: {list(coeff)}")
        if not all(np.isfinite(c) for c in coeff):
            raise self.error(f"coeff must be finite, got {list(coeff)}")
        coeff = tuple(float(np.float32(c)) for c in coeff)
        object.__setattr__(self, "coeff", () if all(c == 1.0 for c in coeff) else coeff)

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.input_names

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        first = inputs[0]
        for name, t in zip(self.input_names, inputs, strict=True):
            if t != first:
                raise self.error(
                    f"input {name!r} is {t}, the first input {self.input_names[0]!r} {first}; Eltwise takes inputs "
                    "of one shape and dtype (no broadcasting)"
                )
        return [first]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        if self.operation == "sum":
            return [eltwise_sum(inputs, self.coeff)]
        if self.operation == "prod":
            return [eltwise_prod(inputs)]
        return [eltwise_max(inputs)]
