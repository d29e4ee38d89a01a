"""``Flatten``: Caffe's ``Flatten`` — axes ``axis..end_axis`` (inclusive, negative counting from the end) merged
into one, ``src/caffe/layers/flatten_layer.cpp``: ``top = bottom[:start] + [count(start, end + 1)] +
bottom[end + 1:]`` with both axes canonicalised (``-rank <= a < rank``) and ``start <= end``.

Its own kind, not a form of Reshape, so that a Caffe ``Flatten`` and an ONNX ``Flatten`` (axis 1: the same thing)
come back as they were.  ONNX: ``Flatten`` where that is the same (``axis`` 1 through the last axis), else a
``Reshape`` to the resolved shape (which reads back as a Reshape layer: the ONNX file is the same again).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._fields import is_int

__all__ = ["Flatten"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Flatten(UnaryLayer):
    """``output`` = ``input`` with axes ``axis..end_axis`` merged (Caffe's defaults: 1 and -1)."""

    kind: ClassVar[str] = "Flatten"
    axis: int = 1
    end_axis: int = -1

    def __post_init__(self) -> None:
        self._check_io()
        for name in ("axis", "end_axis"):
            if not is_int(getattr(self, name)):
                raise self.error(f"{name} must be an integer, got {getattr(self, name)!r}")
            object.__setattr__(self, name, int(getattr(self, name)))

    def span(self, rank: int) -> tuple[int, int]:
        """``(start, end)`` canonicalised for ``rank`` (Caffe's ``CanonicalAxisIndex``)."""
        for name in ("axis", "end_axis"):
            a = getattr(self, name)
            if not -rank <= a < rank:
                raise self.error(f"{name} {a} is out of range for a rank-{rank} input (-{rank}..{rank - 1})")
        start, end = self.axis % rank, self.end_axis % rank
        if start > end:
            raise self.error(f"axis {self.axis} comes after end_axis {self.end_axis} on a rank-{rank} input")
        return start, end

    def resolve(self, dims: tuple[int, ...]) -> tuple[int, ...]:
        start, end = self.span(len(dims))
        return dims[:start] + (math.prod(dims[start : end + 1]),) + dims[end + 1 :]

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        return [TensorType(self.resolve(x.shape), x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [inputs[0].reshape(self.resolve(types[0].shape))]
