"""ONNX facet of ``Log``: ``[Mul by scale] -> [Add shift] -> Log -> [Mul by base_scale]`` (Caffe's precomputed
``1 / log(base)``, :func:`~convertkit.layers.log.core.log_scale`), read back as one ``Log`` node; the scalar
nodes around it fold in through :mod:`convertkit.passes.arithmetic`."""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...ir import TensorType
from ...registry import OnnxFacet
from .._scalar import write_chain
from .core import Log, log_scale

OP_TYPES = ("Log",)


def write(layer: Log, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    dtype = np.dtype(types[0].dtype)
    steps: list[tuple[str, object]] = []
    if layer.scale != 1.0:
        steps.append(("Mul", layer.scale))
    if layer.shift != 0.0:
        steps.append(("Add", layer.shift))
    steps.append(("Log", None))
    s = log_scale(layer.base, dtype)
    if s != 1:
        steps.append(("Mul", s))
    write_chain(ctx, layer.name, layer.input, layer.output, dtype, steps)


def read(node: OnnxNode) -> Log:
    return Log(name=node.name, input=node.value(0), output=node.output_names[0])


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Log] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
