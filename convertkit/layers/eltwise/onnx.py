"""ONNX facet of ``Eltwise``.

Written: ``sum`` as ``Sum`` (coefficients ``(1, -1)`` as ``Sub``; any other coefficient as a ``Mul`` of that input
by a scalar initializer first), ``prod`` as ``Mul`` (a left-to-right chain past two inputs), ``max`` as ``Max``.
Read: ``Sum``, ``Sub``, ``Add``, ``Mul`` and ``Max`` of run-time tensors of one shape (``Add`` as a sum of two).
A constant operand is another kind's form (declined: the Bias, Power... kinds read it, tried in registration
order); two run-time tensors of different shapes (ONNX broadcasting) are refused, Caffe's Eltwise has none.
"""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Eltwise

OP_TYPES = ("Sum", "Sub", "Add", "Mul", "Max")


def write(layer: Eltwise, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    names = list(layer.input_names)
    if layer.operation == "max":
        ctx.add_node("Max", names, [layer.output], name=layer.name)
    elif layer.operation == "prod":
        cur = names[0]
        for k, other in enumerate(names[1:], start=1):
            out = layer.output if k == len(names) - 1 else ctx.fresh(f"{layer.name}.prod{k}")
            ctx.add_node("Mul", [cur, other], [out], name=layer.name)
            cur = out
    elif layer.coeff == (1.0, -1.0):
        ctx.add_node("Sub", names, [layer.output], name=layer.name)
    else:
        terms = []
        for k, (name, c) in enumerate(zip(names, layer.coeff or (1.0,) * len(names), strict=True)):
            if c == 1.0:
                terms.append(name)
                continue
            scaled = ctx.fresh(f"{layer.name}.term{k}")
            scale = ctx.add_initializer(f"{layer.name}.coeff{k}", np.array(c, dtype=types[k].dtype))
            ctx.add_node("Mul", [name, scale], [scaled], name=f"{layer.name}.coeff{k}")
            terms.append(scaled)
        ctx.add_node("Sum", terms, [layer.output], name=layer.name)


def read(node: OnnxNode) -> Eltwise | None:
    """``Sum``/``Max`` (two or more inputs), ``Sub``/``Add``/``Mul`` of run-time tensors of one shape; a constant
    operand is another kind's form (None)."""
    indices = [i for i in range(len(node.input_names)) if node.has_input(i)]
    if any(node.is_constant(i) for i in indices):
        return None
    names = tuple(node.value(i) for i in indices)
    shapes = [node.input_type(i) for i in indices]
    if any(t != shapes[0] for t in shapes):
        raise node.error(
            f"inputs {', '.join(map(str, shapes))} differ (ONNX broadcasting of run-time tensors has no Caffe form); "
            "convertkit's Eltwise (Caffe's) takes inputs of one shape and dtype — broadcast them explicitly first "
            "(Expand / Tile)"
        )
    if len(names) < 2:
        raise node.error(
            f"has {len(names)} input(s); an Eltwise needs two or more (a one-input {node.op_type} is a copy)"
        )
    operation = {"Sum": "sum", "Sub": "sum", "Add": "sum", "Mul": "prod", "Max": "max"}[node.op_type]
    coeff = (1.0, -1.0) if node.op_type == "Sub" else ()
    return Eltwise(name=node.name, input_names=names, output=node.output_names[0], operation=operation, coeff=coeff)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Eltwise] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
