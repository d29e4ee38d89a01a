"""ONNX facet of ``BatchNorm``: one ``BatchNormalization`` (inference) with constant scale, B, mean and var.

Written with the statistics already divided by Caffe's ``scale_factor`` and scale/B of ones/zeros where the layer
has none.  Read back, scale all ones and B all (+)zeros are no scale and no bias, so a plain Caffe BatchNorm and
an ONNX one say the same IR; writing them again gives the same bytes.  A Caffe BatchNorm followed by a Scale is
fused into one node before this writer (:mod:`convertkit.passes.normalization`).
"""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...errors import FormatError
from ...fillers import Values
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import BatchNorm

OP_TYPES = ("BatchNormalization",)


def write(layer: BatchNorm, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    x = types[0]
    c, dtype = x.shape[1], np.dtype(x.dtype)
    mean, variance = layer.statistics(c)
    scale = layer.scale_array(c, dtype)
    bias = layer.bias_array(c, dtype)
    names = [
        layer.input,
        ctx.add_initializer(f"{layer.name}.scale", np.ones(c, dtype) if scale is None else scale),
        ctx.add_initializer(f"{layer.name}.bias", np.zeros(c, dtype) if bias is None else bias),
        ctx.add_initializer(f"{layer.name}.mean", mean.astype(dtype)),
        ctx.add_initializer(f"{layer.name}.var", variance.astype(dtype)),
    ]
    ctx.add_node("BatchNormalization", names, [layer.output], name=layer.name, epsilon=layer.eps)


def read(node: OnnxNode) -> BatchNorm:
    """An inference ``BatchNormalization`` (one output, ``training_mode`` 0, opset < 9 ``spatial`` 1)."""
    x = node.input_type(0)
    if len([n for n in node.output_names if n]) != 1:
        raise node.error(
            f"has {len(node.output_names)} outputs: the running mean/var outputs are training mode; convertkit "
            "converts inference batch normalisation only — export the model in eval mode"
        )
    if node.attr("training_mode", 0):
        raise node.error(
            "training_mode=1 normalises with the batch's own statistics; convertkit converts inference only — "
            "export the model in eval mode"
        )
    if node.attr("spatial", 1) != 1:
        raise node.error("spatial=0 (per-element statistics) has no Caffe form; export with spatial=1")
    if len(x.shape) < 2:
        raise node.error(f"input has shape {list(x.shape)}; BatchNormalization needs (N, C, ...)", FormatError)
    c = x.shape[1]
    vectors = []
    for index, what in ((1, "scale"), (2, "B"), (3, "input_mean"), (4, "input_var")):
        v = np.asarray(node.constant(index, f"the {what}"))
        if v.shape != (c,) or v.dtype != np.dtype(x.dtype):
            raise node.error(
                f"{what} is {v.dtype}{list(v.shape)}; BatchNormalization takes ({c},) in the input's type {x.dtype}",
                FormatError,
            )
        vectors.append(np.ascontiguousarray(v))
    scale, bias, mean, var = vectors
    plain_scale = bool(np.all(scale == 1))
    plain_bias = bool(np.all(bias == 0) and not np.any(np.signbit(bias)))
    return BatchNorm(
        name=node.name,
        input=node.value(0),
        output=node.output_names[0],
        mean=Values(array=mean),
        variance=Values(array=var),
        eps=float(node.attr("epsilon", 1e-5)),
        scale=None if plain_scale else Values(array=scale),
        bias=None if plain_bias else Values(array=bias),
    )


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[BatchNorm] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
