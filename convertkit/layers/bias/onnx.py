"""ONNX facet of ``Bias``: ``Add`` of a ``(1, C, 1, ...)`` constant, read back from an Add that broadcasts so."""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode, channel_bias
from ...fillers import Values
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Bias

OP_TYPES = ("Add",)


def write(layer: Bias, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    x = types[0]
    b = layer.bias_array(x.shape[1], np.dtype(x.dtype)).reshape((1, x.shape[1]) + (1,) * (len(x.shape) - 2))
    ctx.add_node("Add", [layer.input, ctx.add_initializer(f"{layer.name}", b)], [layer.output], name=layer.name)


def read(node: OnnxNode) -> Bias | None:
    """An ``Add`` of a run-time tensor and a constant of more than one element that broadcasts along the channels
    only; else not a Bias.  Read alone: since Caffe has a Bias layer, a lone per-channel Add converts both ways."""
    if len(node.input_names) != 2:
        return None
    runtime = [k for k in (0, 1) if not node.is_constant(k)]
    if len(runtime) != 1:
        return None
    x = node.input_type(runtime[0])
    c = np.asarray(node.constant(1 - runtime[0], "the bias"))
    if c.size <= 1 and (c.ndim != len(x.shape) or x.shape[1] != 1):
        # A one-element constant is the Power kind's (a shift); only the full-rank (1, 1, 1, ...) on a
        # one-channel input, the layout this kind writes, stays a Bias.
        return None
    b = channel_bias(np.asarray(node.constant(1 - runtime[0], "the bias")), x.dtype, x.shape[1], len(x.shape))
    if b is None:
        return None
    return Bias(name=node.name, input=node.value(runtime[0]), output=node.output_names[0], bias=Values(array=b))


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Bias] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
