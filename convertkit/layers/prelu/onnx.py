"""ONNX facet of ``PReLU``: ``PRelu`` with the slope as an initializer ``(C, 1, ...)`` (shared: ``(1,)``)."""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...fillers import Values
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import PReLU

OP_TYPES = ("PRelu",)


def write(layer: PReLU, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    x = types[0]
    slope = layer.slope_array(x.shape[1], np.dtype(x.dtype))
    if not layer.channel_shared:
        slope = slope.reshape((x.shape[1],) + (1,) * (len(x.shape) - 2))
    slope_name = ctx.add_initializer(f"{layer.name}.slope", slope)
    ctx.add_node("PRelu", [layer.input, slope_name], [layer.output], name=layer.name)


def read(node: OnnxNode) -> PReLU:
    """A ``PRelu`` whose constant slope broadcasts from the channel axis: one value (shared) or one per channel."""
    x = node.input_type(0)
    slope = np.asarray(node.constant(1, "the slope"))
    rank, channels = len(x.shape), x.shape[1] if len(x.shape) > 1 else 0
    if slope.dtype != np.dtype(x.dtype):
        raise node.error(f"slope is {slope.dtype}, the input {x.dtype}; PRelu needs one type")
    # one value: shared, unless it is laid out per channel as this kind writes it ((C, 1, ...) with C == 1)
    per_channel_of_one = slope.size == 1 and rank >= 2 and slope.ndim == rank - 1 and channels == 1
    if slope.size == 1 and slope.ndim <= rank and not per_channel_of_one:
        return PReLU(
            name=node.name,
            input=node.value(0),
            output=node.output_names[0],
            slope=Values(array=slope.reshape(1)),
            channel_shared=True,
        )
    full = (1,) * (rank - slope.ndim) + slope.shape if slope.ndim <= rank else slope.shape
    if rank < 2 or slope.ndim > rank or full[0] != 1 or full[1] != channels or any(d != 1 for d in full[2:]):
        raise node.error(
            f"slope of shape {list(slope.shape)} on input {list(x.shape)}: convertkit's PReLU takes one slope per "
            f"channel (shape [{channels}{', 1' * (rank - 2)}], broadcast from the right) or one for all"
        )
    return PReLU(
        name=node.name, input=node.value(0), output=node.output_names[0], slope=Values(array=slope.reshape(-1).copy())
    )


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[PReLU] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
