"""ONNX facet of ``MaxUnpool``: ``MaxUnpool`` (opset 11+) with its third input, the full output shape, always
written (so SegNet's explicit 23x30 from 12x15 comes out as such, not as the 24x30 of kernel 2 stride 2).

ONNX's ``I`` indexes the whole output tensor flattened, ``(n * C + c) * H * W + h * W + w``; MaxPool's
``Indices`` index the whole pooled *input* the same way.  They agree with the IR's per-plane mask exactly where
the output plane is the pooled input's plane (or there is one plane): then the MaxPool's Indices are wired into
the MaxUnpool as they are, and :mod:`convertkit.passes.unpool` refuses every other use of a mask on export and on
import (the IR holds no integer tensors to convert through).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...errors import FormatError, UnsupportedError, ValidationError
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import MaxUnpool

OP_TYPES = ("MaxUnpool",)


def write(layer: MaxUnpool, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    x = types[0]
    out = layer.output_spatial(x.shape[2:])
    shape = np.array([*x.shape[:2], *out], dtype=np.int64)
    shape_name = ctx.add_initializer(f"{layer.name}.output_shape", shape)
    attrs: dict[str, list[int]] = {"kernel_shape": list(layer.kernel_shape)}
    if any(s != 1 for s in layer.strides):
        attrs["strides"] = list(layer.strides)
    # onnxruntime (unpool.cc) refuses an output_shape below (in - 1) * stride + kernel - pads; the pads change
    # nothing else (the indices place every value), so end pads bring that size down to SegNet's explicit one.
    unpadded = dataclasses.replace(layer, pads=(), output_shape=None).default_spatial(x.shape[2:])
    end = tuple(max(0, d - o) for d, o in zip(unpadded, out, strict=True))
    if any(e >= k for e, k in zip(end, layer.kernel_shape, strict=True)):
        raise layer.error(
            f"output {list(out)} is smaller than (in - 1) * stride + kernel - (kernel - 1) = "
            f"{[d - k + 1 for d, k in zip(unpadded, layer.kernel_shape, strict=True)]}: onnxruntime's MaxUnpool "
            "refuses it (pads must stay below the kernel)",
            UnsupportedError,
        )
    if any(end):
        attrs["pads"] = [0] * len(end) + list(end)
    ctx.add_node("MaxUnpool", [layer.input, layer.mask, shape_name], [layer.output], name=layer.name, **attrs)


def read(node: OnnxNode) -> MaxUnpool:
    """A ``MaxUnpool`` whose ``I`` is a MaxPool's Indices (checked by :mod:`convertkit.passes.unpool`)."""
    if node.opset < 11 and node.has_input(2):
        raise node.error("has an output_shape input, which MaxUnpool takes from opset 11 on", FormatError)
    x = node.input_type(0)
    n = len(x.shape) - 2
    kernel = node.attr("kernel_shape")
    if kernel is None:
        raise node.error("has no kernel_shape (required)", ValidationError)
    kernel = tuple(int(k) for k in kernel)
    strides = tuple(int(s) for s in node.attr("strides", [1] * n))
    pads = tuple(int(p) for p in node.attr("pads", [0] * (2 * n)))
    output_shape = None  # then ONNX's default size, from the pads; with it the pads change nothing (one IR form)
    if node.has_input(2):
        full = tuple(int(d) for d in np.asarray(node.constant(2, "output_shape")).reshape(-1))
        if len(full) != len(x.shape) or full[:2] != x.shape[:2]:
            raise node.error(
                f"output_shape {list(full)} must be (N, C, spatial...) with the input's N, C {list(x.shape[:2])}",
                ValidationError,
            )
        output_shape = full[2:]
        pads = ()
    return MaxUnpool(
        name=node.name,
        input=node.value(0),
        mask=node.value(1),
        output=node.output_names[0],
        kernel_shape=kernel,
        strides=strides,
        pads=pads,
        output_shape=output_shape,
    )


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[MaxUnpool] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
