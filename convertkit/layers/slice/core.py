"""``Slice``: Caffe's Slice — split ``input`` along ``axis`` into consecutive pieces, one output each.

``slice_points`` are the cut positions (ascending, inside the axis); without them the axis is split into equal
pieces, one per output (the size must divide).  ONNX: ``Split``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ...ir import Layer, TensorType
from .._fields import check_name, int_tuple

__all__ = ["Slice"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Slice(Layer):
    """Split ``input`` along ``axis`` at ``slice_points`` into ``output_names`` (one more than the points)."""

    kind: ClassVar[str] = "Slice"
    name: str
    input: str
    output_names: tuple[str, ...]
    axis: int = 1
    slice_points: tuple[int, ...] = field(default=(), metadata={"schema": {"minimum": 1}})

    def __post_init__(self) -> None:
        self._normalise_meta()
        check_name(self.kind, self.name)
        check_name(self.kind, self.input, "input")
        names = tuple(self.output_names)
        if len(names) < 1:
            raise self.error("needs at least one output")
        for n in names:
            check_name(self.kind, n, "output")
        object.__setattr__(self, "output_names", names)
        if not isinstance(self.axis, int) or isinstance(self.axis, bool):
            raise self.error(f"axis must be an integer, got {self.axis!r}")
        points = int_tuple(self.name, self.kind, "slice_points", self.slice_points)
        if points and len(points) != len(names) - 1:
            raise self.error(
                f"{len(points)} slice_points make {len(points) + 1} pieces, but there are {len(names)} outputs"
            )
        if any(b <= a for a, b in zip(points, points[1:], strict=False)) or any(p < 1 for p in points):
            raise self.error(f"slice_points must be positive and strictly increasing, got {list(points)}")
        object.__setattr__(self, "slice_points", points)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.output_names

    def pieces(self, in_shape: tuple[int, ...]) -> tuple[int, list[int]]:
        """``(axis, size of each piece)``."""
        rank = len(in_shape)
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 0 <= axis < rank:
            raise self.error(f"axis {self.axis} is out of range for rank {rank}")
        size = in_shape[axis]
        if not self.slice_points:
            k = len(self.output_names)
            if size % k:
                raise self.error(f"without slice_points the axis size {size} must divide into {k} equal pieces")
            return axis, [size // k] * k
        if self.slice_points[-1] >= size:
            raise self.error(f"slice_points {list(self.slice_points)} must lie inside the axis size {size}")
        bounds = [0, *self.slice_points, size]
        return axis, [b - a for a, b in zip(bounds, bounds[1:], strict=False)]

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        axis, sizes = self.pieces(x.shape)
        return [TensorType(x.shape[:axis] + (s,) + x.shape[axis + 1 :], x.dtype) for s in sizes]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        axis, sizes = self.pieces(types[0].shape)
        return [np.ascontiguousarray(p) for p in np.split(inputs[0], np.cumsum(sizes)[:-1], axis=axis)]
