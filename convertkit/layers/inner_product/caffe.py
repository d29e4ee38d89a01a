"""Caffe facet of ``InnerProduct``: ``InnerProduct`` (num_output, bias_term, axis, transpose) with the weight and
bias blobs in the caffemodel; fillers are written only when no caffemodel is (the blobs say it all)."""

from __future__ import annotations

import math

import numpy as np

from ...codec.caffe import (
    CaffeEmitter,
    CaffeLayer,
    CaffeReader,
    filler_seed,
    filler_to_proto,
    kernel_fillers,
)
from ...errors import FormatError
from ...fillers import Filler, Values, WeightSource
from ...ir import Layer, Meta, TensorType
from ...registry import CaffeFacet
from ..deconvolution.caffe import _training_from_caffe
from ..deconvolution.core import _RANDOM_FILLERS, TRAINING
from .core import InnerProduct

TYPES = ("InnerProduct",)


def write(layer: InnerProduct, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    k = layer.in_features(types[0].shape)
    proto = ctx.add_layer(layer.name, "InnerProduct", [layer.input], [layer.output])
    p = proto.inner_product_param
    p.num_output = layer.num_output
    if not layer.bias_term:
        p.bias_term = False
    if layer.axis != 1:
        p.axis = layer.axis
    if layer.transpose:
        p.transpose = True
    ctx.add_training(proto, layer.blob_training)
    blobs = [layer.weight_array(k)]
    bias = layer.bias_array()
    if bias is not None:
        blobs.append(bias)
    ctx.add_blobs(proto, blobs)
    if ctx.with_weights:
        return
    lost = []
    for blob, index, source in (("weights", 0, layer.weight), ("bias", 1, layer.bias)):
        if isinstance(source, Filler):
            filler_to_proto(source, p.weight_filler if index == 0 else p.bias_filler)
            if source.type in _RANDOM_FILLERS and source.seed != filler_seed(layer.name, index):
                lost.append(f"its {blob} come from a {source.type} filler with seed {source.seed}")
        elif isinstance(source, Values):
            lost.append(f"its {blob} are explicit values")
    if lost:
        ctx.warn(
            f"layer {layer.name!r} (InnerProduct): {' and '.join(lost)}, but no .caffemodel is written "
            "(--no-weights); Caffe would fill those blobs from the prototxt instead"
        )


def _blob(source: CaffeLayer, blob: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    if (
        blob.shape != shape
        and blob.size == math.prod(shape)
        and all(d == 1 for d in blob.shape[: blob.ndim - len(shape)])
    ):
        blob = blob.reshape(shape)  # legacy V1 4-D blobs (1, 1, N, K) / (1, 1, 1, N)
    if blob.shape != shape:
        raise source.error(
            f"the caffemodel's {what} blob has shape {list(blob.shape)}, the layer needs {list(shape)} for input "
            f"{list(source.in_types[0].shape)}",
            FormatError,
        )
    return np.ascontiguousarray(blob, dtype=np.float32)


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    """A Caffe ``InnerProduct``: weights from the caffemodel, else its fillers (Caffe's default: constant 0)."""
    source.expect_one_in_one_out()
    lp, where = source.param, source.where
    p = lp.inner_product_param
    if not p.HasField("num_output"):
        raise source.error("inner_product_param needs num_output", FormatError)
    (x,) = source.in_types
    rank = len(x.shape)
    if not -rank <= p.axis < rank:
        raise source.error(f"axis {p.axis} is out of range for bottom {list(x.shape)}", FormatError)
    k = math.prod(x.shape[p.axis % rank :])
    n = p.num_output
    wshape = (k, n) if p.transpose else (n, k)
    weight: WeightSource
    bias: WeightSource | None = None
    blobs = ctx.layer_blobs(lp.name)
    if blobs is not None:
        want = 2 if p.bias_term else 1
        if len(blobs) != want:
            raise source.error(
                f"the caffemodel holds {len(blobs)} blob(s), the layer needs {want} (weights {wshape}"
                f"{f' and bias ({n},)' if p.bias_term else ''})",
                FormatError,
            )
        weight = Values(array=_blob(source, blobs[0], wshape, "weights"))
        if p.bias_term:
            bias = Values(array=_blob(source, blobs[1], (n,), "bias"))
    else:
        weight, bias = kernel_fillers(ctx, lp.name, p, where, bool(p.bias_term))
    training = _training_from_caffe(lp, where, 2 if p.bias_term else 1, ctx)
    return [
        InnerProduct(
            name=lp.name,
            input=source.inputs[0],
            output=source.outputs[0],
            num_output=n,
            axis=p.axis,
            transpose=bool(p.transpose),
            bias_term=bool(p.bias_term),
            weight=weight,
            bias=bias,
            meta=Meta({TRAINING: training}) if training else Meta(),
        )
    ]


def blobs(layer: InnerProduct, source: CaffeLayer) -> list[np.ndarray]:
    """The blobs the prototxt layer needs (materialised fillers), for OpenCV without a caffemodel."""
    k = layer.in_features(source.in_types[0].shape)
    out = [layer.weight_array(k)]
    bias = layer.bias_array()
    if bias is not None:
        out.append(bias)
    return out


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """Measured, OpenCV 4.14: its Caffe InnerProduct ignores ``transpose`` (it multiplies by the blob as if it were
    ``(N, K)``) and returns a 1-D result (axis 0) as ``(N, 1)``."""
    p = source.param.inner_product_param
    if p.transpose:
        return (
            "an InnerProduct with transpose: valid Caffe (the weight blob is (K, num_output)), but OpenCV's Caffe "
            "reader ignores transpose and gives wrong values; use --backend reference or onnxruntime"
        )
    if rank is not None and -rank <= p.axis < rank and p.axis % rank == 0:
        return "an InnerProduct with axis 0: OpenCV returns its 1-D result as (n, 1); use --backend reference"
    return None


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[InnerProduct] = CaffeFacet(
    write=write, types=TYPES, read=read, blobs=blobs, opencv_refusal=opencv_refusal
)
