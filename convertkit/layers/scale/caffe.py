"""Caffe facet of ``Scale``: ``Scale`` (``axis``, ``num_axes``, ``bias_term``, ``filler``, ``bias_filler``) with
its blobs (scale, then bias; a two-bottom Scale has the bias blob only), as ``scale_layer.cpp`` lays them out."""

from __future__ import annotations

import numpy as np

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader, filler_from_proto, filler_to_proto
from ...errors import FormatError
from ...fillers import Filler, Values, WeightSource
from ...ir import Layer, Meta, TensorType
from ...registry import CaffeFacet
from ..deconvolution.caffe import _training_from_caffe
from ..deconvolution.core import TRAINING
from .core import Scale

TYPES = ("Scale",)


def _blobs(layer: Scale, types: list[TensorType]) -> list[np.ndarray]:
    out = [] if len(types) == 2 else [layer.scale_array(types)]
    bias = layer.bias_array(types)
    if bias is not None:
        out.append(bias)
    return out


def write(layer: Scale, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "Scale", list(layer.input_names), [layer.output])
    p = proto.scale_param
    if layer.axis != 1:
        p.axis = layer.axis
    if layer.num_axes != 1:
        p.num_axes = layer.num_axes
    if layer.bias is not None:
        p.bias_term = True
    ctx.add_training(proto, layer.meta.get(TRAINING, ()))
    ctx.add_blobs(proto, _blobs(layer, types))
    if ctx.with_weights:
        return
    if isinstance(layer.scale, Filler) and not (layer.scale.type == "constant" and layer.scale.value == 1):
        filler_to_proto(layer.scale, p.filler)
    if isinstance(layer.bias, Filler) and not (layer.bias.type == "constant" and layer.bias.value == 0):
        filler_to_proto(layer.bias, p.bias_filler)
    lost = [w for w, s in (("scale", layer.scale), ("bias", layer.bias)) if isinstance(s, Values)]
    if lost:
        ctx.warn(
            f"layer {layer.name!r} (Scale): its {' and '.join(lost)} are explicit values, but no .caffemodel is "
            "written (--no-weights); Caffe would fill them from the prototxt instead"
        )


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    lp, where = source.param, source.where
    if len(source.inputs) not in (1, 2) or len(source.outputs) != 1:
        raise source.error(
            f"has {len(source.inputs)} bottoms and {len(source.outputs)} tops; Scale takes one or two bottoms and "
            "one top",
            FormatError,
        )
    p = lp.scale_param
    two = len(source.inputs) == 2
    axis, num_axes = int(p.axis), 1 if two else int(p.num_axes)
    shell = Scale(
        name=lp.name,
        input_names=tuple(source.inputs),
        output=source.outputs[0],
        axis=axis,
        num_axes=num_axes,
        scale=None if two else Filler(type="constant", value=1.0),
    )
    _, shape = shell.placement(list(source.in_types))
    n_blobs = (0 if two else 1) + (1 if p.bias_term else 0)
    blobs = ctx.layer_blobs(lp.name)
    scale: WeightSource | None = None
    bias: WeightSource | None = None
    if blobs is not None:
        if len(blobs) != n_blobs or any(b.size != int(np.prod(shape)) for b in blobs):
            raise source.error(
                f"the caffemodel has blobs {[list(b.shape) for b in blobs]}; this Scale needs {n_blobs} of shape "
                f"{list(shape)} ({'' if two else 'scale'}{' and ' if n_blobs == 2 else ''}"
                f"{'bias' if p.bias_term else ''}) for input {list(source.in_types[0].shape)}",
                FormatError,
            )
        # np.array, not ascontiguousarray: a scalar scale (num_axes 0) keeps its 0 axes
        arrays = [Values(array=np.array(b.reshape(shape), dtype=np.float32)) for b in blobs]
        if not two:
            scale = arrays.pop(0)
        if p.bias_term:
            bias = arrays[0]
    else:
        if ctx.weights is not None and n_blobs:
            ctx.warn(f"{where}: the caffemodel has no blobs for this layer; using the prototxt's fillers")
        if not two:
            # scale_layer.cpp: "Default to unit (1) filler for identity operation."
            scale = (
                filler_from_proto(p.filler, where, ctx.filler_seed(lp.name, 0))
                if p.HasField("filler")
                else Filler(type="constant", value=1.0)
            )
        if p.bias_term:
            # The internal Bias layer copies bias_filler; FillerParameter's default is the constant 0.
            bias = (
                filler_from_proto(p.bias_filler, where, ctx.filler_seed(lp.name, n_blobs - 1))
                if p.HasField("bias_filler")
                else Filler(type="constant", value=0.0)
            )
    training = _training_from_caffe(lp, where, n_blobs, ctx)
    return [
        Scale(
            name=lp.name,
            input_names=tuple(source.inputs),
            output=source.outputs[0],
            axis=axis,
            num_axes=num_axes,
            scale=scale,
            bias=bias,
            meta=Meta({TRAINING: training}) if training else Meta(),
        )
    ]


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """OpenCV's Caffe Scale mis-reads a negative axis and a scalar (num_axes 0) scale blob (measured, 4.14)."""
    p = source.param.scale_param
    if p.axis < 0:
        return (
            f"OpenCV's Caffe Scale fails on a negative axis ({p.axis}); the prototxt is valid Caffe — write the axis "
            "as a positive index, or check with --backend reference or onnxruntime"
        )
    if len(source.param.bottom) == 1 and p.num_axes == 0:
        return (
            "OpenCV's Caffe Scale cannot hold a scalar (num_axes 0) scale blob; the prototxt is valid Caffe — check "
            "with --backend reference or onnxruntime"
        )
    return None


def blobs(layer: Scale, source: CaffeLayer) -> list[np.ndarray]:
    return _blobs(layer, list(source.in_types))


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Scale] = CaffeFacet(write=write, types=TYPES, read=read, blobs=blobs, opencv_refusal=opencv_refusal)
