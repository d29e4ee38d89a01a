"""ONNX facet of ``Slice``."""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Slice

OP_TYPES = ("Split",)


def write(layer: Slice, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    axis, sizes = layer.pieces(types[0].shape)
    if len(sizes) == 1:
        ctx.add_node("Identity", [layer.input], list(layer.output_names), name=layer.name)
        return
    split = ctx.add_initializer(f"{layer.name}.split", np.array(sizes, dtype=np.int64))
    ctx.add_node("Split", [layer.input, split], list(layer.output_names), name=layer.name, axis=axis)


def read(node: OnnxNode) -> Slice:
    """Build from an ONNX ``Split``.

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
    return Slice(
        name=node.name, input=node.value(0), output_names=tuple(node.output_names), axis=axis, slice_points=points
    )


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Slice] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
