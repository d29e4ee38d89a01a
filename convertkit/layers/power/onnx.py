"""ONNX facet of ``Power``: the minimal ``Mul`` (scale) -> ``Add`` (shift) -> ``Pow`` (power) chain by rank-0
initializers of the input's dtype; all defaults (a copy) is one ``Mul`` by 1, which reads back as that Power.

Read, one node each (the chain is folded back by :mod:`convertkit.passes.arithmetic`): ``Mul`` / ``Add`` / ``Sub``
/ ``Pow`` with one run-time input and a one-element constant, ``Div`` by a power of two (``x / c`` is ``x * (1/c)``
bit for bit only then), ``Neg``.  A constant of more than one element is another kind's form (None).
"""

from __future__ import annotations

import math

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...errors import UnsupportedError
from ...ir import TensorType
from ...registry import OnnxFacet
from .._scalar import scalar_operand, write_chain
from .core import Power

OP_TYPES = ("Mul", "Add", "Sub", "Div", "Pow", "Neg")


def write(layer: Power, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    steps: list[tuple[str, float | None]] = []
    if layer.scale != 1.0:
        steps.append(("Mul", layer.scale))
    if layer.shift != 0.0:
        steps.append(("Add", layer.shift))
    if layer.power != 1.0:
        steps.append(("Pow", layer.power))
    write_chain(ctx, layer.name, layer.input, layer.output, np.dtype(types[0].dtype), steps or [("Mul", 1.0)])


def read(node: OnnxNode) -> Power | None:
    """One scalar step as a Power; None where the node is not one (another kind may read it)."""
    out = node.output_names[0]
    if node.op_type == "Neg":
        return Power(name=node.name, input=node.value(0), output=out, scale=-1.0)
    found = scalar_operand(node)
    if found is None:
        return None
    runtime, c = found
    x = node.value(runtime)
    if node.op_type == "Mul":
        return Power(name=node.name, input=x, output=out, scale=c)
    if node.op_type == "Add":
        return Power(name=node.name, input=x, output=out, shift=c)
    if node.op_type == "Sub":
        # x - c == x + (-c) and c - x == c + (-1 * x), bit for bit (negation is exact)
        if runtime == 0:
            return Power(name=node.name, input=x, output=out, shift=-c)
        return Power(name=node.name, input=x, output=out, scale=-1.0, shift=c)
    if node.op_type == "Pow":
        if runtime != 0:
            return None  # c ^ x: an exponential with another base, Exp's form only through Mul (not read)
        return Power(name=node.name, input=x, output=out, power=c)
    # Div
    if runtime != 0:
        raise node.error(f"{c!r} / x (a reciprocal) has no Caffe layer; convertkit reads x / c only")
    mantissa, _ = math.frexp(c) if c != 0 else (0.0, 0)
    if abs(mantissa) != 0.5 or float(np.float32(1 / c)) != 1 / c:
        raise node.error(
            f"x / {c!r}: Caffe's Power multiplies, and x * (1 / {c!r}) differs from x / {c!r} in the last bit for "
            "some x (only a power of two divides exactly as a multiplication); convert the divisor to a Mul",
            UnsupportedError,
        )
    return Power(name=node.name, input=x, output=out, scale=1.0 / c)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Power] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
