"""ONNX facet of ``Softmax``: one ``Softmax`` node (export opsets are >= 13, where ``axis`` is one axis)."""

from __future__ import annotations

import math

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Softmax

OP_TYPES = ("Softmax",)


def write(layer: Softmax, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    ctx.add_node("Softmax", [layer.input], [layer.output], name=layer.name, axis=layer.axis)


def read(node: OnnxNode) -> Softmax:
    """``Softmax``: axis default -1 from opset 13; before, default 1 and the axes from ``axis`` on flattened into
    one, which is a softmax along ``axis`` only when every later axis has size 1."""
    x = node.input_type(0)
    rank = len(x.shape)
    axis = int(node.attr("axis", -1 if node.opset >= 13 else 1))
    if not -rank <= axis < rank:
        raise node.error(f"axis {axis} is out of range for input {list(x.shape)}")
    if node.opset < 13:
        later = x.shape[axis % rank + 1 :]
        if math.prod(later) != 1:
            raise node.error(
                f"before opset 13 Softmax normalises over axes {axis % rank}..{rank - 1} together (sizes "
                f"{list(x.shape[axis % rank :])}); convertkit's Softmax is one axis — convert the model to opset 13 "
                "or later (onnx.version_converter), or reshape so the axes are one"
            )
    return Softmax(name=node.name, input=node.value(0), output=node.output_names[0], axis=axis)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Softmax] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
