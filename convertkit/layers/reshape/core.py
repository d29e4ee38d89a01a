"""``Reshape``: Caffe's ``Reshape`` — a new shape for axes ``[axis, axis + num_axes)``, ``0`` copying the input's
dimension at that place and one ``-1`` inferred from the element count; the data is unchanged (row-major).

The rule is ``src/caffe/layers/reshape_layer.cpp`` (``LayerSetUp`` / ``Reshape``): a negative ``axis`` counts from
the end *past the last axis* (``start = rank + axis + 1``, so ``-1`` appends), ``num_axes -1`` means every axis
from ``start`` on; a ``0`` at position ``i`` copies input axis ``start + i`` (which must exist); at most one ``-1``;
the element count must match.  ONNX: one ``Reshape`` with the resolved dimensions as a constant (no 0 / -1 in the
file, so ``allowzero`` never matters); ONNX ``Reshape`` reads back with its resolved shape (``axis`` 0,
``num_axes`` -1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._fields import int_tuple, is_int

__all__ = ["Reshape"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reshape(UnaryLayer):
    """``output`` = ``input`` with axes ``[axis, axis + num_axes)`` replaced by ``shape`` (0 copy, -1 infer)."""

    kind: ClassVar[str] = "Reshape"
    shape: tuple[int, ...]
    axis: int = 0
    num_axes: int = -1

    def __post_init__(self) -> None:
        self._check_io()
        shape = int_tuple(self.name, self.kind, "shape", self.shape)
        object.__setattr__(self, "shape", shape)
        bad = [d for d in shape if d < -1]
        if bad:
            raise self.error(f"shape {list(shape)} has {bad[0]}; dimensions are positive, 0 (copy) or -1 (infer)")
        if shape.count(-1) > 1:
            raise self.error(
                f"shape {list(shape)} has {shape.count(-1)} -1 dimensions; Caffe infers at most one — give the "
                "others explicitly"
            )
        for name in ("axis", "num_axes"):
            if not is_int(getattr(self, name)):
                raise self.error(f"{name} must be an integer, got {getattr(self, name)!r}")
            object.__setattr__(self, name, int(getattr(self, name)))
        if self.num_axes < -1:
            raise self.error(f"num_axes must be -1 (all the rest) or >= 0, got {self.num_axes}")

    def resolve(self, dims: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for input ``dims`` (Caffe's rule; raises this layer's error)."""
        rank = len(dims)
        start = self.axis if self.axis >= 0 else rank + self.axis + 1
        if not 0 <= start <= rank:
            raise self.error(
                f"axis {self.axis} is out of range for input {list(dims)} (Caffe takes -{rank + 1}..{rank})"
            )
        end = rank if self.num_axes == -1 else start + self.num_axes
        if end > rank:
            raise self.error(
                f"axis {self.axis} with num_axes {self.num_axes} reaches axis {end}, past input {list(dims)}"
            )
        mid: list[int] = []
        for i, d in enumerate(self.shape):
            if d == 0:
                if start + i >= rank:
                    raise self.error(
                        f"shape {list(self.shape)} copies (0) input axis {start + i}, which input {list(dims)} does "
                        "not have"
                    )
                mid.append(dims[start + i])
            else:
                mid.append(d)
        out = list(dims[:start]) + mid + list(dims[end:])
        total, known = math.prod(dims), math.prod(d for d in out if d != -1)
        if -1 in out:
            if known == 0 or total % known:
                raise self.error(
                    f"shape {list(self.shape)} on input {list(dims)}: the {total} elements do not divide by the "
                    f"product {known} of the other dimensions, so -1 has no value"
                )
            out[out.index(-1)] = total // known
        elif known != total:
            raise self.error(
                f"shape {list(self.shape)} on input {list(dims)} gives {list(out)} = {known} elements, the input has "
                f"{total}; the counts must match (use -1 to infer one dimension)"
            )
        return tuple(out)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        return [TensorType(self.resolve(x.shape), x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [inputs[0].reshape(self.resolve(types[0].shape))]
