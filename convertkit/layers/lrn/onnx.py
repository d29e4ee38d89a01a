"""ONNX facet of ``LRN``.

Across channels: one ``LRN`` (size, alpha, beta, bias — the same formula as Caffe's).  Within channel (Caffe
only), Caffe's own chain, exactly: ``Mul(x, x)`` -> ``AveragePool`` (kernel size x size, strides 1, explicit pads
(size - 1) / 2, ``count_include_pad=1``: Caffe's divisor size^2 at the borders too) -> ``Mul`` by alpha -> ``Add``
1 -> ``Pow`` by -beta -> ``Mul`` by x.  Reading that chain back is not recognised (its nodes are listed as
unsupported or read as their own kinds): only ``LRN`` is read.
"""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import LRN

OP_TYPES = ("LRN",)


def write(layer: LRN, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    if layer.norm_region == "across_channels":
        ctx.add_node(
            "LRN",
            [layer.input],
            [layer.output],
            name=layer.name,
            size=layer.size,
            alpha=layer.alpha,
            beta=layer.beta,
            bias=layer.bias,
        )
        return
    dtype = np.dtype(types[0].dtype)
    name, x, pad = layer.name, layer.input, (layer.size - 1) // 2

    def const(hint: str, value: float) -> str:
        return ctx.add_initializer(f"{name}.{hint}", np.array(value, dtype))

    squares, pooled, scaled, shifted, power = (
        ctx.fresh(f"{name}.{s}") for s in ("sq", "pool", "scaled", "shifted", "pow")
    )
    ctx.add_node("Mul", [x, x], [squares], name=f"{name}.square")
    ctx.add_node(
        "AveragePool",
        [squares],
        [pooled],
        name=f"{name}.pool",
        kernel_shape=[layer.size, layer.size],
        strides=[1, 1],
        pads=[pad, pad, pad, pad],
        count_include_pad=1,
    )
    ctx.add_node("Mul", [pooled, const("alpha", layer.alpha)], [scaled], name=f"{name}.alpha")
    ctx.add_node("Add", [scaled, const("one", 1.0)], [shifted], name=f"{name}.shift")
    ctx.add_node("Pow", [shifted, const("minus_beta", -layer.beta)], [power], name=f"{name}.power")
    ctx.add_node("Mul", [x, power], [layer.output], name=name)


def read(node: OnnxNode) -> LRN:
    x = node.input_type(0)
    if len(x.shape) < 3:
        raise node.error(f"input has shape {list(x.shape)}; LRN needs (N, C, spatial...)")
    if node.attr("size") is None:
        raise node.error("has no size attribute (required by the ONNX spec)")
    return LRN(
        name=node.name,
        input=node.value(0),
        output=node.output_names[0],
        size=int(node.attr("size")),
        alpha=float(node.attr("alpha", 1e-4)),
        beta=float(node.attr("beta", 0.75)),
        bias=float(node.attr("bias", 1.0)),
    )


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[LRN] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
