"""``Crop``: Caffe's Crop — cut ``input`` to the shape of ``shape_like`` from ``axis`` on, at ``offset``.

Output shape: ``input.shape[:axis] + shape_like.shape[axis:]``; on each cropped axis ``a`` the output takes rows
``offset[a] .. offset[a] + shape_like.shape[a]`` of the input.  ``offset`` is one value for every cropped axis or
one per axis (Caffe's rule; default 0).  ONNX: ``Slice``.  FCN nets crop their upsampled scores this way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..ir import Layer, TensorType, register_layer
from ._fields import check_name, int_array_schema, int_tuple, layer_schema

__all__ = ["Crop"]


@register_layer
@dataclass(frozen=True, slots=True, kw_only=True)
class Crop(Layer):
    """Crop ``input`` to ``shape_like``'s shape from ``axis`` on (negative axes count from the end)."""

    kind: ClassVar[str] = "Crop"
    name: str
    input: str
    shape_like: str
    output: str = ""
    axis: int = 2
    offset: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        check_name(self.kind, self.name)
        check_name(self.kind, self.input, "input")
        check_name(self.kind, self.shape_like, "shape_like")
        if not self.output:
            object.__setattr__(self, "output", self.name)
        if not isinstance(self.axis, int) or isinstance(self.axis, bool):
            raise self.error(f"axis must be an integer, got {self.axis!r}")
        offset = int_tuple(self.name, self.kind, "offset", self.offset)
        if any(o < 0 for o in offset):
            raise self.error(f"offset must be >= 0, got {list(offset)}")
        object.__setattr__(self, "offset", offset)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input, self.shape_like)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

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

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        x, ref = inputs
        if len(x.shape) != len(ref.shape):
            raise self.error(f"input rank {len(x.shape)} differs from reference rank {len(ref.shape)}")
        axis, offsets = self.starts(x.shape)
        for a, o in enumerate(offsets):
            size, want = x.shape[axis + a], ref.shape[axis + a]
            if o + want > size:
                raise self.error(
                    f"on axis {axis + a}, offset {o} + reference size {want} exceeds the input size {size}"
                )
        return [TensorType(x.shape[:axis] + ref.shape[axis:], x.dtype)]

    def crop_slices(self, x: TensorType, ref: TensorType) -> tuple[slice, ...]:
        axis, offsets = self.starts(x.shape)
        return tuple([slice(None)] * axis + [slice(o, o + ref.shape[axis + a]) for a, o in enumerate(offsets)])

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [np.ascontiguousarray(inputs[0][self.crop_slices(types[0], types[1])])]

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "name": self.name, "input": self.input, "shape_like": self.shape_like}
        if self.output != self.name:
            out["output"] = self.output
        if self.axis != 2:
            out["axis"] = self.axis
        if self.offset:
            out["offset"] = list(self.offset)
        return out

    @classmethod
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Crop:
        return cls(
            name=spec["name"],
            input=spec["input"],
            shape_like=spec["shape_like"],
            output=spec.get("output", ""),
            axis=spec.get("axis", 2),
            offset=tuple(spec.get("offset", ())),
        )

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        return layer_schema(
            cls.kind,
            {
                "input": True,
                "shape_like": True,
                "output": True,
                "axis": {"type": "integer"},
                "offset": int_array_schema(0),
            },
            required=["input", "shape_like"],
        )

    def to_onnx(self, ctx: Any, types: list[TensorType]) -> None:
        """``Slice`` with constant starts/ends (``shape_like`` only gives the shape)."""
        x, ref = types
        axis, offsets = self.starts(x.shape)
        axes = np.arange(axis, len(x.shape), dtype=np.int64)
        starts = np.array(offsets, dtype=np.int64)
        ends = starts + np.array(ref.shape[axis:], dtype=np.int64)
        ctx.add_node(
            "Slice",
            [
                self.input,
                ctx.add_initializer(f"{self.name}.starts", starts),
                ctx.add_initializer(f"{self.name}.ends", ends),
                ctx.add_initializer(f"{self.name}.axes", axes),
            ],
            [self.output],
            name=self.name,
        )

    # -- Caffe ----------------------------------------------------------------------------------------------------
    caffe_types: ClassVar[tuple[str, ...]] = ("Crop",)

    def to_caffe(self, ctx: Any, types: list[TensorType]) -> None:
        layer = ctx.add_layer(self.name, "Crop", [self.input, self.shape_like], [self.output])
        if self.axis != 2:
            layer.crop_param.axis = self.axis
        layer.crop_param.offset.extend(self.offset)

    @classmethod
    def from_caffe(
        cls, lp: Any, ctx: Any, inputs: list[str], outputs: list[str], in_types: list[TensorType]
    ) -> list[Layer]:
        from ..errors import FormatError

        if len(inputs) != 2 or len(outputs) != 1:
            raise FormatError(f"layer {lp.name!r} (Crop): needs two bottoms (blob, reference) and one top")
        p = lp.crop_param
        return [
            cls(
                name=lp.name,
                input=inputs[0],
                shape_like=inputs[1],
                output=outputs[0],
                axis=p.axis,
                offset=tuple(p.offset),
            )
        ]
