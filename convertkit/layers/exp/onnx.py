"""ONNX facet of ``Exp``: ``[Mul by inner_scale] -> Exp -> [Mul by outer_scale]`` (Caffe's two precomputed
scales, :func:`~convertkit.layers.exp.core.exp_scales`), read back as one ``Exp`` node; the scalar ``Mul`` nodes
around it fold in through :mod:`convertkit.passes.arithmetic`."""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...ir import TensorType
from ...registry import OnnxFacet
from .._scalar import write_chain
from .core import Exp, exp_scales

OP_TYPES = ("Exp",)


def write(layer: Exp, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    dtype = np.dtype(types[0].dtype)
    inner, outer = exp_scales(layer.base, layer.scale, layer.shift, dtype)
    steps: list[tuple[str, object]] = []
    if inner != 1:
        steps.append(("Mul", inner))
    steps.append(("Exp", None))
    if outer != 1:
        steps.append(("Mul", outer))
    write_chain(ctx, layer.name, layer.input, layer.output, dtype, steps)


def read(node: OnnxNode) -> Exp:
    return Exp(name=node.name, input=node.value(0), output=node.output_names[0])


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Exp] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
