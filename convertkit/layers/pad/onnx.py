"""ONNX facet of ``Pad``: one ``Pad`` node (pads as an input, opset >= 13)."""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode, pad_amounts, pad_value
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Pad

OP_TYPES = ("Pad",)


def write(layer: Pad, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    n = layer.spatial_rank
    amounts = np.array([0, 0, *layer.pads[:n], 0, 0, *layer.pads[n:]], dtype=np.int64)
    inputs = [layer.input, ctx.add_initializer(f"{layer.name}_pads", amounts)]
    if layer.mode == "constant" and (layer.value != 0.0 or np.signbit(layer.value)):
        inputs.append(ctx.add_initializer(f"{layer.name}_value", np.array(layer.value, dtype=types[0].dtype)))
    ctx.add_node("Pad", inputs, [layer.output], name=layer.name, mode=layer.mode)


def read(node: OnnxNode) -> Pad | None:
    """A ``Pad`` of the spatial axes in mode constant (any value) or edge; other Pads are not this kind's."""
    x = node.input_type(0)
    mode = node.attr("mode", "constant")
    if mode not in ("constant", "edge"):
        return None
    amounts = pad_amounts(node, len(x.shape))
    if amounts is None:
        return None
    begin, end = amounts
    if any(begin[:2]) or any(end[:2]):
        return None
    value = 0.0
    if mode == "constant":
        array = pad_value(node)
        if array.size != 1 or not np.isfinite(array.ravel()[0]):
            return None
        value = float(array.ravel()[0])
    return Pad(
        name=node.name,
        input=node.value(0),
        output=node.output_names[0],
        pads=(*begin[2:], *end[2:]),
        mode=mode,
        value=value,
    )


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Pad] = OnnxFacet(write=write, op_types=OP_TYPES, read=read, read_alone=False)
