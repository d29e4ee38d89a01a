"""ONNX facet of ``Activation``: one node each — ``Relu`` (``LeakyRelu`` with a slope), ``Sigmoid``, ``Tanh``,
``Elu``, ``Abs``."""

from __future__ import annotations

from typing import Any

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Activation

#: ONNX op -> function.
OP_FUNCTIONS = {"Relu": "relu", "LeakyRelu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Elu": "elu", "Abs": "abs"}
OP_TYPES = tuple(OP_FUNCTIONS)
#: function -> ONNX op.
FUNCTION_OPS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "elu": "Elu", "abs": "Abs"}


def write(layer: Activation, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    attrs: dict[str, Any] = {}
    op = FUNCTION_OPS[layer.function]
    if layer.function == "relu" and layer.alpha is not None:
        op, attrs["alpha"] = "LeakyRelu", layer.alpha
    elif layer.function == "elu":
        attrs["alpha"] = layer.parameter
    ctx.add_node(op, [layer.input], [layer.output], name=layer.name, **attrs)


def read(node: OnnxNode) -> Activation:
    """``Relu`` / ``LeakyRelu`` (alpha default 0.01) / ``Sigmoid`` / ``Tanh`` / ``Elu`` (alpha default 1) / ``Abs``."""
    function = OP_FUNCTIONS[node.op_type]
    alpha = None
    if node.op_type == "LeakyRelu":
        alpha = float(node.attr("alpha", 0.01))
    elif node.op_type == "Elu":
        alpha = float(node.attr("alpha", 1.0))
    return Activation(name=node.name, input=node.value(0), output=node.output_names[0], function=function, alpha=alpha)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Activation] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
