"""Caffe facet of ``BatchNorm``: ``BatchNorm`` (``eps``, ``use_global_stats``) with blobs mean, variance and the
moving-average factor; a layer with scale or bias reaches this writer already split into BatchNorm + Scale
(:mod:`convertkit.passes.normalization`), unless it is written back as the PSPNet or SegNet fork's ``BN``
(:mod:`.fork`, read from that ``BN``, dialect ``pspnet`` / ``segnet``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...errors import FormatError
from ...fillers import Filler, Values
from ...ir import Layer, Meta, TensorType
from ...registry import CaffeFacet
from ..deconvolution.caffe import _training_from_caffe
from ..deconvolution.core import TRAINING
from . import fork
from .core import DEFAULT_EPS, BatchNorm

TYPES = ("BatchNorm", *fork.TYPES)
#: ``meta`` key: ``use_global_stats: true`` was written explicitly (kept for the round trip; the IR is inference).
USE_GLOBAL_STATS = "caffe.use_global_stats"


def _blobs(layer: BatchNorm, channels: int) -> list[np.ndarray]:
    return [
        layer.mean.materialize((channels,), np.float32),
        layer.variance.materialize((channels,), np.float32),
        np.array([layer.scale_factor], np.float32),
    ]


def write(layer: BatchNorm, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    form = fork.fork_form(layer, ctx.dialect)
    if form is not None:
        fork.write(layer, form, ctx, types)
        return
    if layer.fused:
        raise layer.error("carries a scale or bias, which Caffe writes as a Scale layer; lower the model first")
    proto = ctx.add_layer(layer.name, "BatchNorm", [layer.input], [layer.output])
    if layer.meta.get(USE_GLOBAL_STATS):
        proto.batch_norm_param.use_global_stats = True
    if layer.eps != DEFAULT_EPS:
        proto.batch_norm_param.eps = layer.eps
    ctx.add_training(proto, layer.meta.get(TRAINING, ()))
    ctx.add_blobs(proto, _blobs(layer, types[0].shape[1]))
    caffe_zeros = all(
        isinstance(s, Filler) and s.type == "constant" and s.value == 0 for s in (layer.mean, layer.variance)
    )
    if not ctx.with_weights and not (caffe_zeros and layer.scale_factor == 0):
        ctx.warn(
            f"layer {layer.name!r} (BatchNorm): its statistics are not Caffe's initial zeros, but no .caffemodel "
            "is written (--no-weights); Caffe would start from zero mean, variance and factor (y = x / sqrt(eps))"
        )


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    """A Caffe ``BatchNorm`` at TEST: the stored statistics (``batch_norm_layer.cpp``); a fork ``BN``: :mod:`.fork`."""
    if source.layer_type in fork.TYPES:
        return fork.read(source, ctx)
    source.expect_one_in_one_out()
    lp, where = source.param, source.where
    p = lp.batch_norm_param
    (x,) = source.in_types
    if p.HasField("use_global_stats") and not p.use_global_stats:
        raise source.error(
            "use_global_stats: false normalises with each batch's own statistics (Caffe's training mode), which "
            "no inference graph says; remove the field (TEST uses the stored statistics) or set it true"
        )
    if len(x.shape) < 2:
        raise source.error(f"bottom has shape {list(x.shape)}; convertkit's BatchNorm needs (N, C, ...)")
    c = x.shape[1]
    training = _training_from_caffe(lp, where, 3, ctx)
    trained = [k for k, t in enumerate(training) if t.lr_mult is None or t.lr_mult != 0]
    if trained:
        # batch_norm_layer.cpp LayerSetUp: CHECK_EQ(param(i).lr_mult(), 0) "Cannot configure batch
        # normalization statistics as layer parameters."
        raise source.error(
            f"param {{ }} {trained} has a non-zero (or missing) lr_mult; Caffe refuses it (the statistics are not "
            "learned parameters) — give lr_mult: 0 or drop the param entries",
            FormatError,
        )
    blobs = ctx.layer_blobs(lp.name)
    if blobs is not None:
        if len(blobs) != 3 or blobs[0].size != c or blobs[1].size != c or blobs[2].size != 1:
            raise source.error(
                f"the caffemodel has blobs {[list(b.shape) for b in blobs]}; BatchNorm needs mean ({c}), "
                f"variance ({c}) and the factor (1) for input {list(x.shape)}",
                FormatError,
            )
        mean: Filler | Values = Values(array=np.ascontiguousarray(blobs[0].reshape(c), dtype=np.float32))
        variance: Filler | Values = Values(array=np.ascontiguousarray(blobs[1].reshape(c), dtype=np.float32))
        factor = float(blobs[2].reshape(-1)[0])
    else:
        if ctx.weights is not None:
            ctx.warn(f"{where}: the caffemodel has no blobs for this layer")
        ctx.warn(
            f"{where}: no statistics (no caffemodel blobs), so Caffe's initial zeros apply: mean 0, variance 0, "
            "factor 0, i.e. y = x / sqrt(eps) (give --weights)"
        )
        mean = variance = Filler(type="constant", value=0.0)
        factor = 0.0
    meta: dict[str, Any] = {}
    if training:
        meta[TRAINING] = training
    if p.HasField("use_global_stats"):
        meta[USE_GLOBAL_STATS] = True
    return [
        BatchNorm(
            name=lp.name,
            input=source.inputs[0],
            output=source.outputs[0],
            mean=mean,
            variance=variance,
            scale_factor=factor,
            eps=float(p.eps),
            meta=Meta(meta),
        )
    ]


def blobs(layer: BatchNorm, source: CaffeLayer) -> list[np.ndarray]:
    if source.layer_type in fork.TYPES:
        return fork.blobs(layer, source)
    return _blobs(layer, source.in_types[0].shape[1])


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    return fork.opencv_refusal(source, rank) if source.layer_type in fork.TYPES else None


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[BatchNorm] = CaffeFacet(
    write=write, types=TYPES, read=read, blobs=blobs, opencv_refusal=opencv_refusal
)
