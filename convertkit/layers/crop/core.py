"""``Crop``: Caffe's Crop — cut ``input`` to the shape of ``shape_like`` (or to an explicit ``shape``) from ``axis``
on, at ``offset``.

Output shape: ``input.shape[:axis] + shape_like.shape[axis:]`` (or ``+ shape``); on each cropped axis ``a`` the
output takes rows ``offset[a] .. offset[a] + size[a]`` of the input.  ``offset`` is one value for every cropped axis
or one per axis (Caffe's rule; default 0).  Exactly one of ``shape_like`` (Caffe's form: a reference blob) and
``shape`` (the sizes of the axes from ``axis`` on: ONNX ``Slice`` with constant starts and ends) is given.
ONNX: ``Slice`` both ways.  Caffe: ``Crop`` for ``shape_like``; the explicit form is written as one ``Slice`` per
cut axis with the unused pieces into ``Silence``.  FCN nets crop their upsampled scores this way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from ...coord_map import CoordMap
from ...ir import TensorType, UnaryLayer
from .._fields import check_name, int_tuple

__all__ = ["Crop"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Crop(UnaryLayer):
    """Crop ``input`` to ``shape_like``'s shape (or to ``shape``) from ``axis`` on (negative axes from the end)."""

    kind: ClassVar[str] = "Crop"
    spec_schema_extra: ClassVar[dict[str, Any]] = {"oneOf": [{"required": ["shape_like"]}, {"required": ["shape"]}]}
    shape_like: str = ""
    shape: tuple[int, ...] | None = field(default=None, metadata={"schema": {"minimum": 1}})
    axis: int = 2
    offset: tuple[int, ...] = field(default=(), metadata={"schema": {"minimum": 0}})

    def __post_init__(self) -> None:
        self._check_io()
        if (self.shape is None) == (not self.shape_like):
            raise self.error(
                "give exactly one of shape_like (a reference value, Caffe's form) or shape (the sizes from axis on)"
            )
        if self.shape is None:
            check_name(self.kind, self.shape_like, "shape_like")
        else:
            shape = int_tuple(self.name, self.kind, "shape", self.shape)
            if not shape or any(v < 1 for v in shape):
                raise self.error(f"shape must list positive sizes (one per axis from axis on), got {list(shape)}")
            object.__setattr__(self, "shape", shape)
        if not isinstance(self.axis, int) or isinstance(self.axis, bool):
            raise self.error(f"axis must be an integer, got {self.axis!r}")
        offset = int_tuple(self.name, self.kind, "offset", self.offset)
        if any(o < 0 for o in offset):
            raise self.error(f"offset must be >= 0, got {list(offset)}")
        object.__setattr__(self, "offset", offset)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,) if self.shape is not None else (self.input, self.shape_like)

    def starts(self, in_shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        """``(axis, start per cropped axis)`` for an input of rank ``len(in_shape)``."""
        rank = len(in_shape)
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 0 <= axis < rank:
            raise self.error(f"axis {self.axis} is out of range for rank {rank}")
        n = rank - axis
        if len(self.offset) not in (0, 1, n):
            raise self.error(f"offset needs 0, 1 or {n} values (one per axis from {axis} on), got {len(self.offset)}")
        offsets = self.offset * n if len(self.offset) == 1 else self.offset or (0,) * n
        return axis, tuple(offsets)

    def sizes(self, types: list[TensorType]) -> tuple[int, ...]:
        """The output sizes of the cropped axes (from ``axis`` on): ``shape``, or the reference's."""
        x = types[0]
        axis, _ = self.starts(x.shape)
        if self.shape is not None:
            if len(self.shape) != len(x.shape) - axis:
                raise self.error(
                    f"shape {list(self.shape)} needs {len(x.shape) - axis} sizes (one per axis from {axis} on, input "
                    f"{list(x.shape)})"
                )
            return self.shape
        ref = types[1]
        if len(x.shape) != len(ref.shape):
            raise self.error(f"input rank {len(x.shape)} differs from reference rank {len(ref.shape)}")
        return ref.shape[axis:]

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        x = inputs[0]
        sizes = self.sizes(inputs)
        axis, offsets = self.starts(x.shape)
        what = "size" if self.shape is not None else "reference size"
        for a, (o, want) in enumerate(zip(offsets, sizes, strict=True)):
            size = x.shape[axis + a]
            if o + want > size:
                raise self.error(f"on axis {axis + a}, offset {o} + {what} {want} exceeds the input size {size}")
        return [TensorType(x.shape[:axis] + tuple(sizes), x.dtype)]

    def coord_map(self, inputs: list[TensorType]) -> CoordMap:
        """Shift by minus the offset on each cropped spatial axis (coord_map.py's Crop)."""
        axis, offsets = self.starts(inputs[0].shape)
        rank = len(inputs[0].shape)
        shifts = [offsets[a - axis] if a >= axis else 0 for a in range(2, rank)]
        return CoordMap(tuple((Fraction(1), Fraction(-s)) for s in shifts))

    def crop_slices(self, types: list[TensorType]) -> tuple[slice, ...]:
        axis, offsets = self.starts(types[0].shape)
        sizes = self.sizes(types)
        return tuple([slice(None)] * axis + [slice(o, o + s) for o, s in zip(offsets, sizes, strict=True)])

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [np.ascontiguousarray(inputs[0][self.crop_slices(types)])]
