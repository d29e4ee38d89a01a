"""Caffe facet of ``Pad``: Caffe has no Pad layer, so each form is written with stock layers, exactly.

- ``edge``: per padded axis, ``Slice`` off the first and last rows (the middle piece to ``Silence``) and ``Concat``
  ``first * begin, input, last * end``.
- ``constant`` zeros: a frozen grouped ``Deconvolution`` (group = C) whose kernel is one-hot: kernel
  ``begin + end + 1`` per axis, the 1 at tap ``begin``, stride 1, pad 0 — each output row is one input row times 1,
  or zero.
"""

from __future__ import annotations

import numpy as np

from ...codec.caffe import CaffeEmitter, write_conv_geometry
from ...errors import UnsupportedError
from ...ir import TensorType
from ...registry import CaffeFacet
from .core import Pad


def write(layer: Pad, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    if layer.mode == "edge":
        _write_edge(layer, ctx, types[0])
    elif layer.value == 0.0:
        _write_zeros(layer, ctx, types[0])
    else:
        raise layer.error(
            f"constant padding with value {layer.value!r} has no stock Caffe form (zeros and edge padding have); "
            "export to ONNX instead",
            UnsupportedError,
        )


def _write_edge(layer: Pad, ctx: CaffeEmitter, x: TensorType) -> None:
    n = layer.spatial_rank
    cur, shape = layer.input, list(x.shape)
    axes = [a for a in range(n) if layer.pads[a] or layer.pads[n + a]]
    for k, a in enumerate(axes):
        axis, length = 2 + a, shape[2 + a]
        before, after = layer.pads[a], layer.pads[n + a]
        if length == 1:
            first = last = cur
        else:
            tops = [ctx.fresh(f"{layer.name}.edge{a}_first")]
            if length > 2:
                tops.append(ctx.fresh(f"{layer.name}.edge{a}_middle"))
            tops.append(ctx.fresh(f"{layer.name}.edge{a}_last"))
            sl = ctx.add_layer(ctx.fresh(f"{layer.name}.edge{a}_slice"), "Slice", [cur], tops)
            sl.slice_param.axis = axis
            sl.slice_param.slice_point.extend([1] if length == 2 else [1, length - 1])
            if length > 2:
                ctx.add_layer(ctx.fresh(f"{layer.name}.edge{a}_silence"), "Silence", [tops[1]], [])
            first, last = tops[0], tops[-1]
        padded = layer.output if k == len(axes) - 1 else ctx.fresh(f"{layer.name}.edge{a}")
        bottoms = [first] * before + [cur] + [last] * after
        cat = ctx.add_layer(ctx.fresh(f"{layer.name}.edge{a}_concat"), "Concat", bottoms, [padded])
        cat.concat_param.axis = axis
        cur, shape[axis] = padded, length + before + after
    if not axes:
        raise layer.error("pads nothing; Caffe has no copy layer — drop the Pad", UnsupportedError)


def _write_zeros(layer: Pad, ctx: CaffeEmitter, x: TensorType) -> None:
    n, c = layer.spatial_rank, x.shape[1]
    kernel = [layer.pads[a] + layer.pads[n + a] + 1 for a in range(n)]
    weight = np.zeros((c, 1, *kernel), dtype=np.float32)
    tap: tuple[slice | int, ...] = (slice(None), 0, *(layer.pads[a] for a in range(n)))
    weight[tap] = 1.0
    proto = ctx.add_layer(layer.name, "Deconvolution", [layer.input], [layer.output])
    cp = proto.convolution_param
    cp.num_output = c
    cp.group = c
    cp.bias_term = False
    write_conv_geometry(cp, kernel, [1] * n, [0] * n, [1] * n)
    ctx.freeze(proto, 1)
    ctx.add_blobs(proto, [weight])
    if not ctx.with_weights:
        ctx.warn(
            f"layer {layer.name!r} (Pad): written as a one-hot Deconvolution whose kernel no filler describes, but no "
            ".caffemodel is written (--no-weights); Caffe would fill it from the prototxt instead"
        )


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Pad] = CaffeFacet(write=write)
