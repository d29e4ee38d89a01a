"""Caffe facet of ``Bias``: a one-bottom ``Bias`` with a per-channel blob (``axis`` 1, ``num_axes`` 1, the
defaults) — the form convertkit's Bias says.  Other axes and the two-bottom form are refused with the way out
(``bias_layer.cpp`` broadcasts like Scale; a Scale with ``bias_term`` and a unit scale says every such form)."""

from __future__ import annotations

import numpy as np

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader, filler_from_proto, filler_to_proto
from ...errors import FormatError
from ...fillers import Filler, Values, WeightSource
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Bias

TYPES = ("Bias",)


def write(layer: Bias, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "Bias", [layer.input], [layer.output])
    ctx.add_blobs(proto, [layer.bias_array(types[0].shape[1])])
    if ctx.with_weights:
        return
    if isinstance(layer.bias, Filler):
        if not (layer.bias.type == "constant" and layer.bias.value == 0):
            filler_to_proto(layer.bias, proto.bias_param.filler)
    else:
        ctx.warn(
            f"layer {layer.name!r} (Bias): the bias is given as values, but no .caffemodel is written "
            "(--no-weights); Caffe would fill it with its default 0 instead"
        )


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    lp, where = source.param, source.where
    p = lp.bias_param
    if len(source.inputs) != 1 or len(source.outputs) != 1:
        raise source.error(
            f"has {len(source.inputs)} bottoms and {len(source.outputs)} tops; convertkit's Bias adds a learned "
            "blob to one bottom — a run-time bias is an Eltwise SUM of same-shape bottoms"
        )
    (x,) = source.in_types
    rank = len(x.shape)
    if rank < 2 or p.axis not in (1, 1 - rank) or p.num_axes != 1:
        raise source.error(
            f"axis {p.axis} num_axes {p.num_axes} on bottom {list(x.shape)}: convertkit's Bias adds one value per "
            "channel (axis 1, num_axes 1); write it as a Scale with bias_term, the same axis and num_axes and a "
            "constant 1 scale"
        )
    c = x.shape[1]
    blobs = ctx.layer_blobs(lp.name)
    bias: WeightSource
    if blobs is not None:
        if len(blobs) != 1 or blobs[0].size != c:
            raise source.error(
                f"the caffemodel has blobs {[list(b.shape) for b in blobs]}; Bias needs one blob of {c} values for "
                f"bottom {list(x.shape)}",
                FormatError,
            )
        bias = Values(array=np.ascontiguousarray(blobs[0].reshape(c), dtype=np.float32))
    elif p.HasField("filler"):
        bias = filler_from_proto(p.filler, where, ctx.filler_seed(lp.name, 0))
    else:
        bias = Filler(type="constant", value=0.0)  # bias_layer.cpp: FillerParameter's default, the constant 0
    return [Bias(name=lp.name, input=source.inputs[0], output=source.outputs[0], bias=bias)]


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """OpenCV's Caffe reader has no Bias layer ("Can't create layer of type Bias", 4.14)."""
    return (
        "OpenCV's Caffe reader has no Bias layer; the prototxt is valid Caffe — check with --backend reference or "
        "onnxruntime, or write the bias as a Scale with bias_term and a constant 1 scale"
    )


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Bias] = CaffeFacet(write=write, types=TYPES, read=read, opencv_refusal=opencv_refusal)
