"""``Slice``: Caffe's Slice — split ``input`` along ``axis`` into consecutive pieces, one output each.

``slice_points`` are the cut positions (ascending, inside the axis); without them the axis is split into equal
pieces, one per output (the size must divide).  ONNX: ``Split``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..ir import Layer, TensorType, register_layer
from ._fields import check_name, int_array_schema, int_tuple, layer_schema

__all__ = ["Slice"]


@register_layer
@dataclass(frozen=True, slots=True, kw_only=True)
class Slice(Layer):
    """Split ``input`` along ``axis`` at ``slice_points`` into ``output_names`` (one more than the points)."""

    kind: ClassVar[str] = "Slice"
    name: str
    input: str
    output_names: tuple[str, ...]
    axis: int = 1
    slice_points: tuple[int, ...] = ()

    def __post_init__(self) -> None:
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

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.kind,
            "name": self.name,
            "input": self.input,
            "output_names": list(self.output_names),
        }
        if self.axis != 1:
            out["axis"] = self.axis
        if self.slice_points:
            out["slice_points"] = list(self.slice_points)
        return out

    @classmethod
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Slice:
        return cls(
            name=spec["name"],
            input=spec["input"],
            output_names=tuple(spec["output_names"]),
            axis=spec.get("axis", 1),
            slice_points=tuple(spec.get("slice_points", ())),
        )

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        return layer_schema(
            cls.kind,
            {
                "input": True,
                "output_names": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                "axis": {"type": "integer"},
                "slice_points": int_array_schema(1),
            },
            required=["input", "output_names"],
        )

    def to_onnx(self, ctx: Any, types: list[TensorType]) -> None:
        axis, sizes = self.pieces(types[0].shape)
        if len(sizes) == 1:
            ctx.add_node("Identity", [self.input], list(self.output_names), name=self.name)
            return
        split = ctx.add_initializer(f"{self.name}.split", np.array(sizes, dtype=np.int64))
        ctx.add_node("Split", [self.input, split], list(self.output_names), name=self.name, axis=axis)

    # -- Caffe ----------------------------------------------------------------------------------------------------
    caffe_types: ClassVar[tuple[str, ...]] = ("Slice",)

    def to_caffe(self, ctx: Any, types: list[TensorType]) -> None:
        if len(self.output_names) == 1:
            # A one-top Slice is a copy; OpenCV crashes on it, so it is written as Caffe's copy, Split.
            ctx.add_layer(self.name, "Split", [self.input], list(self.output_names))
            return
        layer = ctx.add_layer(self.name, "Slice", [self.input], list(self.output_names))
        layer.slice_param.axis = self.axis
        layer.slice_param.slice_point.extend(self.slice_points)

    @classmethod
    def from_caffe(
        cls, lp: Any, ctx: Any, inputs: list[str], outputs: list[str], in_types: list[TensorType]
    ) -> list[Layer]:
        from ..errors import FormatError

        if len(inputs) != 1:
            raise FormatError(f"layer {lp.name!r} (Slice): needs one bottom, got {len(inputs)}")
        p = lp.slice_param
        axis = p.axis if p.HasField("axis") or not p.HasField("slice_dim") else p.slice_dim
        return [
            cls(
                name=lp.name, input=inputs[0], output_names=tuple(outputs), axis=axis, slice_points=tuple(p.slice_point)
            )
        ]

    # -- ONNX import ----------------------------------------------------------------------------------------------
    onnx_op_types: ClassVar[tuple[str, ...]] = ("Split",)

    @classmethod
    def from_onnx(cls, node: Any) -> Slice:
        """Build from an ONNX ``Split`` (``node``: :class:`convertkit.formats.onnx_import.OnnxNode`).

        ``split`` (attribute before opset 13, input since) becomes ``slice_points``; without it the pieces are
        equal, or, from opset 18 (``num_outputs``), ``ceil(size / outputs)`` with a smaller last piece.
        """
        x = node.input_type(0)
        rank = len(x.shape)
        axis = int(node.attr("axis", 0))
        if not -rank <= axis < rank:
            raise node.error(f"axis {axis} is out of range for input {list(x.shape)}")
        axis %= rank
        size, k = x.shape[axis], len(node.output_names)
        if node.opset >= 13:
            split = node.optional_constant(1, "split")
        else:
            split = None if node.attr("split") is None else np.asarray(node.attr("split"))
        if split is None:
            if node.attr("num_outputs") is not None and int(node.attr("num_outputs")) != k:
                raise node.error(f"num_outputs {node.attr('num_outputs')} differs from the {k} outputs")
            chunk = -(-size // k)
            if node.opset < 18 and size % k:
                raise node.error(f"axis size {size} does not split into {k} equal pieces and no split is given")
            sizes = [chunk] * (k - 1) + [size - chunk * (k - 1)]
        else:
            sizes = [int(v) for v in np.asarray(split).ravel()]
            if len(sizes) != k or sum(sizes) != size:
                raise node.error(f"split {sizes} must give {k} pieces summing to the axis size {size}")
        if any(v < 1 for v in sizes):
            raise node.error(f"split pieces {sizes} include an empty one; convertkit values have no empty axes")
        points = tuple(int(p) for p in np.cumsum(sizes)[:-1])
        return cls(
            name=node.name, input=node.value(0), output_names=tuple(node.output_names), axis=axis, slice_points=points
        )
