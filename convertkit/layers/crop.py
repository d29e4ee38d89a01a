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

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..ir import Layer, TensorType, register_layer
from ._fields import check_name, int_array_schema, int_tuple, layer_schema

__all__ = ["Crop"]


@register_layer
@dataclass(frozen=True, slots=True, kw_only=True)
class Crop(Layer):
    """Crop ``input`` to ``shape_like``'s shape (or to ``shape``) from ``axis`` on (negative axes from the end)."""

    kind: ClassVar[str] = "Crop"
    onnx_op_types: ClassVar[tuple[str, ...]] = ("Slice",)
    name: str
    input: str
    shape_like: str = ""
    shape: tuple[int, ...] | None = None
    output: str = ""
    axis: int = 2
    offset: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        check_name(self.kind, self.name)
        check_name(self.kind, self.input, "input")
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
        return (self.input,) if self.shape is not None else (self.input, self.shape_like)

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

    def crop_slices(self, types: list[TensorType]) -> tuple[slice, ...]:
        axis, offsets = self.starts(types[0].shape)
        sizes = self.sizes(types)
        return tuple([slice(None)] * axis + [slice(o, o + s) for o, s in zip(offsets, sizes, strict=True)])

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [np.ascontiguousarray(inputs[0][self.crop_slices(types)])]

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "name": self.name, "input": self.input}
        if self.shape is not None:
            out["shape"] = list(self.shape)
        else:
            out["shape_like"] = self.shape_like
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
            shape_like=spec.get("shape_like", ""),
            shape=tuple(spec["shape"]) if spec.get("shape") is not None else None,
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
                "shape": int_array_schema(1),
                "output": True,
                "axis": {"type": "integer"},
                "offset": int_array_schema(0),
            },
            required=["input"],
            oneOf=[{"required": ["shape_like"]}, {"required": ["shape"]}],
        )

    def to_onnx(self, ctx: Any, types: list[TensorType]) -> None:
        """``Slice`` with constant starts/ends (``shape_like`` only gives the shape)."""
        x = types[0]
        axis, offsets = self.starts(x.shape)
        axes = np.arange(axis, len(x.shape), dtype=np.int64)
        starts = np.array(offsets, dtype=np.int64)
        ends = starts + np.array(self.sizes(types), dtype=np.int64)
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
        if self.shape is not None:
            self._caffe_slices(ctx, types)
            return
        layer = ctx.add_layer(self.name, "Crop", [self.input, self.shape_like], [self.output])
        if self.axis != 2:
            layer.crop_param.axis = self.axis
        layer.crop_param.offset.extend(self.offset)

    def _caffe_slices(self, ctx: Any, types: list[TensorType]) -> None:
        """The explicit form: Caffe's Crop needs a reference blob, so each cut axis is one ``Slice`` whose kept
        piece goes on and whose other pieces go into ``Silence`` (exact: a copy of the rows)."""
        x = types[0]
        axis, offsets = self.starts(x.shape)
        cuts = [
            (axis + a, o, s)
            for a, (o, s) in enumerate(zip(offsets, self.sizes(types), strict=True))
            if (o, s) != (0, x.shape[axis + a])
        ]
        if not cuts:
            raise self.error(
                "crops nothing (offset 0 and the full size on every axis); Caffe has no copy layer — drop the Crop"
            )
        cur = self.input
        for k, (a, o, s) in enumerate(cuts):
            points = [p for p in (o, o + s) if 0 < p < x.shape[a]]
            kept = self.output if k == len(cuts) - 1 else ctx.fresh(f"{self.name}.axis{a}")
            tops, unused = [], []
            for lo in [0, *points]:
                if lo == o:
                    tops.append(kept)
                else:
                    unused.append(ctx.fresh(f"{self.name}.axis{a}_unused"))
                    tops.append(unused[-1])
            layer = ctx.add_layer(ctx.fresh(f"{self.name}.axis{a}_slice"), "Slice", [cur], tops)
            layer.slice_param.axis = a
            layer.slice_param.slice_point.extend(points)
            if unused:
                ctx.add_layer(ctx.fresh(f"{self.name}.axis{a}_silence"), "Silence", unused, [])
            cur = kept

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

    # -- ONNX import ----------------------------------------------------------------------------------------------
    @classmethod
    def from_onnx(cls, node: Any) -> Crop:
        """Build from an ONNX ``Slice`` of a run-time tensor (``node``: an ``onnx_import.OnnxNode``).

        starts, ends, axes and steps must be constants (a Slice of constants is shape arithmetic, evaluated at
        import); they are clamped as ONNX says and become the explicit form: ``axis`` = the first sliced axis,
        ``offset`` and ``shape`` per axis from there on.  Refused: steps other than 1, and empty results.
        """
        x = node.input_type(0)
        bounds = onnx_slice_bounds(node, x.shape)
        if not bounds:
            raise node.error("the Slice names no axis, so it copies its input; convertkit has no copy layer")
        axis = min(bounds)
        offset = tuple(bounds.get(a, (0, x.shape[a]))[0] for a in range(axis, len(x.shape)))
        shape = tuple(
            bounds.get(a, (0, x.shape[a]))[1] - o for a, o in zip(range(axis, len(x.shape)), offset, strict=True)
        )
        return cls(
            name=node.name, input=node.value(0), output=node.output_names[0], axis=axis, offset=offset, shape=shape
        )


def onnx_slice_bounds(node: Any, shape: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """``{axis: (start, end)}`` of an ONNX ``Slice`` with constant inputs (or Slice-1 attributes) on a tensor of
    ``shape``, clamped as ONNX says (negative values count from the end).

    Raises the node's error for steps other than 1, repeated or out-of-range axes and empty results.
    """
    from ..errors import ValidationError

    rank = len(shape)
    if node.opset < 10:
        starts = np.asarray(node.attr("starts", []), dtype=np.int64)
        ends = np.asarray(node.attr("ends", []), dtype=np.int64)
        axes_attr = node.attr("axes")
        axes = np.arange(len(starts)) if axes_attr is None else np.asarray(axes_attr, dtype=np.int64)
        steps = np.ones(len(starts), dtype=np.int64)
    else:
        starts = np.asarray(node.constant(1, "starts")).astype(np.int64).ravel()
        ends = np.asarray(node.constant(2, "ends")).astype(np.int64).ravel()
        given_axes = node.optional_constant(3, "axes")
        axes = np.arange(len(starts)) if given_axes is None else np.asarray(given_axes).astype(np.int64).ravel()
        given_steps = node.optional_constant(4, "steps")
        steps = np.ones(len(starts), np.int64) if given_steps is None else np.asarray(given_steps).ravel()
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise node.error(
            f"starts {starts.tolist()}, ends {ends.tolist()}, axes {axes.tolist()} and steps {steps.tolist()} "
            "must have the same length",
            ValidationError,
        )
    if any(int(s) != 1 for s in steps):
        raise node.error(
            f"steps {steps.tolist()}: convertkit's Crop takes contiguous rows (steps 1); strided or reversed "
            "slices have no IR kind"
        )
    bounds: dict[int, tuple[int, int]] = {}
    for start, end, axis in zip(starts.tolist(), ends.tolist(), axes.tolist(), strict=True):
        if not -rank <= axis < rank:
            raise node.error(f"axis {axis} is out of range for input {list(shape)}", ValidationError)
        a = axis % rank
        if a in bounds:
            raise node.error(f"axis {a} is sliced twice (axes {axes.tolist()})", ValidationError)
        size = shape[a]
        lo = min(max(start + size if start < 0 else start, 0), size)
        hi = min(max(end + size if end < 0 else end, 0), size)
        if hi <= lo:
            raise node.error(
                f"on axis {a} (size {size}) the slice [{start}, {end}) is empty; convertkit values have no empty axes"
            )
        bounds[a] = (lo, hi)
    return bounds
