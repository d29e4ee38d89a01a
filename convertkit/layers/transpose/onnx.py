"""ONNX facet of ``Transpose``: one ``Transpose`` node with ``perm`` (read: absent ``perm`` reverses the axes)."""

from __future__ import annotations

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Transpose

OP_TYPES = ("Transpose",)


def write(layer: Transpose, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    ctx.add_node("Transpose", [layer.input], [layer.output], name=layer.name, perm=list(layer.perm))


def read(node: OnnxNode) -> Transpose:
    rank = len(node.input_type(0).shape)
    perm = node.attr("perm")
    perm = tuple(range(rank - 1, -1, -1)) if perm is None else tuple(int(p) for p in perm)
    return Transpose(name=node.name, input=node.value(0), output=node.output_names[0], perm=perm)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Transpose] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
