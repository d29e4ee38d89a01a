"""ONNX facet of ``Crop``."""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode, slice_bounds
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Crop

OP_TYPES = ("Slice",)


def write(layer: Crop, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    """``Slice`` with constant starts/ends (``shape_like`` only gives the shape)."""
    x = types[0]
    axis, offsets = layer.starts(x.shape)
    axes = np.arange(axis, len(x.shape), dtype=np.int64)
    starts = np.array(offsets, dtype=np.int64)
    ends = starts + np.array(layer.sizes(types), dtype=np.int64)
    ctx.add_slice(
        layer.input,
        layer.output,
        name=layer.name,
        starts=starts.tolist(),
        ends=ends.tolist(),
        axes=axes.tolist(),
    )


def read(node: OnnxNode) -> Crop:
    """Build from an ONNX ``Slice`` of a run-time tensor.

    starts, ends, axes and steps must be constants (a Slice of constants is shape arithmetic, evaluated at
    import); they are clamped as ONNX says and become the explicit form: ``axis`` = the first sliced axis,
    ``offset`` and ``shape`` per axis from there on.  Refused: steps other than 1, and empty results.
    """
    x = node.input_type(0)
    bounds = slice_bounds(node, x.shape)
    if not bounds:
        raise node.error("the Slice names no axis, so it copies its input; convertkit has no copy layer")
    axis = min(bounds)
    offset = tuple(bounds.get(a, (0, x.shape[a]))[0] for a in range(axis, len(x.shape)))
    shape = tuple(bounds.get(a, (0, x.shape[a]))[1] - o for a, o in zip(range(axis, len(x.shape)), offset, strict=True))
    return Crop(name=node.name, input=node.value(0), output=node.output_names[0], axis=axis, offset=offset, shape=shape)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Crop] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
