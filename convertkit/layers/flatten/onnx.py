"""ONNX facet of ``Flatten``: ONNX ``Flatten`` (axis 1) where it is Caffe's (axis 1 through the last axis of a
rank >= 2 input), else a ``Reshape`` to the resolved shape.  Read: an ONNX ``Flatten`` with axis 1 is this kind;
any other axis makes ``(prod(dims[:axis]), prod(dims[axis:]))``, which is a Reshape (Caffe's Flatten keeps the
leading axes apart)."""

from __future__ import annotations

import math

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...errors import ValidationError
from ...ir import Layer, TensorType
from ...registry import OnnxFacet
from ..reshape import Reshape
from ..reshape.onnx import write_reshape
from .core import Flatten

OP_TYPES = ("Flatten",)


def write(layer: Flatten, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    rank = len(types[0].shape)
    if rank >= 2 and layer.span(rank) == (1, rank - 1):
        ctx.add_node("Flatten", [layer.input], [layer.output], name=layer.name, axis=1)
    else:
        write_reshape(ctx, layer.name, layer.input, layer.output, layer.resolve(types[0].shape))


def read(node: OnnxNode) -> Layer:
    x = node.input_type(0)
    rank = len(x.shape)
    axis = int(node.attr("axis", 1))
    if not -rank <= axis <= rank:
        raise node.error(f"axis {axis} is out of range for input {list(x.shape)}", ValidationError)
    axis = axis % (rank + 1) if axis < 0 else axis
    if axis == 1 and rank >= 2:
        return Flatten(name=node.name, input=node.value(0), output=node.output_names[0])
    shape = (math.prod(x.shape[:axis]), math.prod(x.shape[axis:]))
    return Reshape(name=node.name, input=node.value(0), output=node.output_names[0], shape=shape)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Flatten] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
