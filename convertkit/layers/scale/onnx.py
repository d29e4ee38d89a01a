"""ONNX facet of ``Scale``: ``Mul`` by the scale (``[+ Add]`` of the bias), each a constant of the scale's shape
with ones for the trailing axes, so ONNX's right-aligned broadcasting applies it from ``axis`` on.  Two inputs:
the run-time scale is reshaped so (``Reshape``) when axes follow it.

Read: a ``Mul`` of a run-time tensor by a constant of more than one element whose non-unit axes are a run of the
input's axes (with the input's sizes there): a Scale from the first of them.  A one-element constant is the Power
kind's (declined here), a ``Mul`` of two run-time tensors the Eltwise kind's; the Add of a per-channel bias after
such a Mul is folded back by :mod:`convertkit.passes.normalization`.
"""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...fillers import Values
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Scale

OP_TYPES = ("Mul",)


def write(layer: Scale, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    dtype = np.dtype(types[0].dtype)
    shape = layer.broadcast_shape(types)
    if len(types) == 2:
        s = layer.input_names[1]
        if tuple(types[1].shape) != shape:
            reshaped = ctx.fresh(f"{layer.name}.scale")
            target = ctx.add_initializer(f"{layer.name}.scale_shape", np.array(shape, np.int64))
            ctx.add_node("Reshape", [s, target], [reshaped], name=f"{layer.name}.reshape")
            s = reshaped
    else:
        s = ctx.add_initializer(f"{layer.name}.scale", layer.scale_array(types, dtype).reshape(shape))
    bias = layer.bias_array(types, dtype)
    scaled = layer.output if bias is None else ctx.fresh(f"{layer.name}.scaled")
    ctx.add_node("Mul", [layer.input, s], [scaled], name=layer.name)
    if bias is not None:
        b = ctx.add_initializer(f"{layer.name}.bias", bias.reshape(shape))
        ctx.add_node("Add", [scaled, b], [layer.output], name=f"{layer.name}.bias")


def constant_placement(c: np.ndarray, x: TensorType) -> tuple[int, np.ndarray] | None:
    """``(first axis, values of x.shape[first:last+1])`` when multiplying ``x`` by ``c`` scales a run of its axes
    elementwise (more than one element, no broadcasting inside the run); else None."""
    rank = len(x.shape)
    if c.size <= 1 or c.ndim > rank or c.dtype != np.dtype(x.dtype):
        return None
    full = (1,) * (rank - c.ndim) + tuple(c.shape)
    non_unit = [a for a, d in enumerate(full) if d != 1]
    first, last = non_unit[0], non_unit[-1]
    if tuple(full[first : last + 1]) != tuple(x.shape[first : last + 1]):
        return None
    return first, np.ascontiguousarray(c.reshape(full[first : last + 1]))


def read(node: OnnxNode) -> Scale | None:
    if len(node.input_names) != 2:
        return None
    runtime = [k for k in (0, 1) if not node.is_constant(k)]
    if len(runtime) != 1:
        return None  # two run-time tensors: Eltwise's
    x = node.input_type(runtime[0])
    found = constant_placement(np.asarray(node.constant(1 - runtime[0], "the scale")), x)
    if found is None:
        return None
    first, values = found
    return Scale(
        name=node.name,
        input_names=(node.value(runtime[0]),),
        output=node.output_names[0],
        axis=first,
        num_axes=values.ndim,
        scale=Values(array=values),
    )


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Scale] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
