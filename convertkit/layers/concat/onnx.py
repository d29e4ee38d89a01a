"""ONNX facet of ``Concat``."""

from __future__ import annotations

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Concat

OP_TYPES = ("Concat",)


def write(layer: Concat, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    ctx.add_node(
        "Concat", list(layer.input_names), [layer.output], name=layer.name, axis=layer._axis(len(types[0].shape))
    )


def read(node: OnnxNode) -> Concat:
    """Build from an ONNX ``Concat`` of run-time tensors.

    A Concat of constants never gets here: the importer evaluates it (shape arithmetic).
    """
    if node.attr("axis") is None:
        raise node.error("Concat needs the axis attribute")
    names = tuple(node.value(i) for i in range(len(node.input_names)) if node.has_input(i))
    return Concat(name=node.name, input_names=names, output=node.output_names[0], axis=int(node.attr("axis")))


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Concat] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
