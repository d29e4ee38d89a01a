"""Caffe facet of ``PReLU``: ``PReLU`` (``channel_shared``) with the slope blob in the caffemodel."""

from __future__ import annotations

import numpy as np

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader, filler_from_proto, filler_to_proto
from ...fillers import Filler, Values
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import PReLU

TYPES = ("PReLU",)


def write(layer: PReLU, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "PReLU", [layer.input], [layer.output])
    if layer.channel_shared:
        proto.prelu_param.channel_shared = True
    ctx.add_blobs(proto, [layer.slope_array(types[0].shape[1])])
    if ctx.with_weights:
        return  # the blob is the slope; a filler beside it would say nothing more
    if isinstance(layer.slope, Filler):
        filler_to_proto(layer.slope, proto.prelu_param.filler)
    else:
        ctx.warn(
            f"layer {layer.name!r} (PReLU): the slope is given as values, but no .caffemodel is written "
            "(--no-weights); Caffe would fill it with its default 0.25 instead"
        )


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    source.expect_one_in_one_out()
    lp, x = source.param, source.in_types[0]
    shared = lp.prelu_param.channel_shared
    want = (1,) if shared else (x.shape[1],)
    blobs = ctx.layer_blobs(lp.name)
    slope: Filler | Values
    if blobs:
        if len(blobs) != 1 or blobs[0].size != want[0]:
            raise source.error(
                f"the caffemodel has blobs {[list(b.shape) for b in blobs]}; PReLU needs one slope blob of "
                f"{want[0]} value(s) for input {list(x.shape)}"
            )
        slope = Values(array=np.ascontiguousarray(blobs[0].reshape(want), dtype=np.float32))
    elif lp.prelu_param.HasField("filler"):
        slope = filler_from_proto(lp.prelu_param.filler, source.where, ctx.filler_seed(lp.name, 0))
    else:
        # Caffe's PReLU default filler: constant 0.25.
        slope = Filler(type="constant", value=0.25)
    return [PReLU(name=lp.name, input=source.inputs[0], output=source.outputs[0], slope=slope, channel_shared=shared)]


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[PReLU] = CaffeFacet(write=write, types=TYPES, read=read)
