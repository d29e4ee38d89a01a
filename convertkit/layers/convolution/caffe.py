"""Caffe facet of ``Convolution``: one stock ``Convolution`` layer with symmetric pads.

Caffe pads symmetrically; a layer with asymmetric pads reaches this writer already lowered to a zero ``Pad`` of
the excess and a symmetric Convolution (:mod:`convertkit.passes.convolution`).  ``dilation`` is written as it is:
OpenCV's Caffe Convolution sizes and computes dilated layers as Caffe does (measured with OpenCV 4.14 on 1-D, 2-D
and 3-D layers, per-axis dilations, groups; ``tests/test_convolution.py``), unlike its Deconvolution.  Past 2-D
every geometry field is written per axis, since OpenCV reads a lone value as 2-D.
"""

from __future__ import annotations

import numpy as np

from ...codec.caffe import (
    CaffeEmitter,
    CaffeLayer,
    CaffeReader,
    filler_seed,
    filler_to_proto,
    kernel_blobs,
    kernel_fillers,
    read_conv_geometry,
    write_conv_geometry,
)
from ...errors import FormatError, UnsupportedError
from ...fillers import Filler, Values, WeightSource
from ...ir import Layer, Meta, TensorType
from ...registry import CaffeFacet
from ..deconvolution.caffe import _training_from_caffe
from ..deconvolution.core import _RANDOM_FILLERS, TRAINING
from .core import Convolution

TYPES = ("Convolution",)


def write(layer: Convolution, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    """One Caffe ``Convolution`` (num_output, geometry in Caffe's words, group, bias_term, blobs)."""
    x = types[0]
    if layer.pads_begin != layer.pads_end:
        raise layer.error(
            f"Caffe Convolution pads symmetrically; pads {list(layer.pads or ())} are asymmetric — export through "
            "convertkit.to_caffe, which writes them as a zero Pad before a symmetric Convolution",
            UnsupportedError,
        )
    assert layer.strides is not None and layer.dilations is not None
    proto = ctx.add_layer(layer.name, "Convolution", [layer.input], [layer.output])
    cp = proto.convolution_param
    cp.num_output = layer.out_channels
    if not layer.bias_term:
        cp.bias_term = False
    if layer.spatial_rank > 2:
        # One value per axis: OpenCV's Caffe reader takes a lone kernel_size / stride / pad / dilation as 2-D
        # (see opencv_refusal); Caffe reads both spellings alike.
        cp.kernel_size.extend(layer.kernel_shape)
        for repeated, values, default in (
            (cp.stride, layer.strides, 1),
            (cp.pad, layer.pads_begin, 0),
            (cp.dilation, layer.dilations, 1),
        ):
            if any(v != default for v in values):
                repeated.extend(values)
    else:
        write_conv_geometry(cp, layer.kernel_shape, layer.strides, layer.pads_begin, layer.dilations)
    if layer.group != 1:
        cp.group = layer.group
    # Caffe's BilinearFiller CHECK-fails on anything but a 4-D blob with a square kernel.
    caffe_fills = not (
        isinstance(layer.weight, Filler)
        and layer.weight.type == "bilinear"
        and (layer.spatial_rank != 2 or layer.kernel_shape[0] != layer.kernel_shape[1])
    )
    if isinstance(layer.weight, Filler) and caffe_fills:
        filler_to_proto(layer.weight, cp.weight_filler)
    if isinstance(layer.bias, Filler):
        filler_to_proto(layer.bias, cp.bias_filler)
    ctx.add_training(proto, layer.blob_training)
    blobs = [layer.weight_array(x.shape[1])]
    bias = layer.bias_array()
    if bias is not None:
        blobs.append(bias)
    if not ctx.with_weights:
        lost = [why for why in (_lost("weights", layer, layer.weight, 0, caffe_fills),) if why]
        if layer.bias is not None:
            lost += [why for why in (_lost("bias", layer, layer.bias, 1, True),) if why]
        if lost:
            ctx.warn(
                f"layer {layer.name!r} (Convolution): {' and '.join(lost)}, but no .caffemodel is written "
                "(--no-weights); Caffe would fill those blobs from the prototxt instead"
            )
    ctx.add_blobs(proto, blobs)


def _lost(blob: str, layer: Convolution, source: WeightSource, index: int, caffe_fills: bool) -> str | None:
    """Why the prototxt alone does not give blob ``blob`` back (None: its filler does)."""
    if isinstance(source, Values):
        return f"its {blob} are explicit values" if blob == "weights" else f"its {blob} is explicit values"
    if not caffe_fills:
        return f"its bilinear {blob} kernel is not 2-D square, which Caffe's bilinear filler refuses"
    if source.type in _RANDOM_FILLERS and source.seed != filler_seed(layer.name, index):
        return f"its {blob} come from a {source.type} filler with seed {source.seed}, which Caffe's filler cannot carry"
    return None


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    """A Caffe ``Convolution`` (or V1 ``CONVOLUTION``): weights from the caffemodel, else its fillers.

    Without either, Caffe's default filler applies (constant 0), with a warning.
    """
    source.expect_one_in_one_out()
    lp, where = source.param, source.where
    cp = lp.convolution_param
    (x,) = source.in_types
    if cp.axis not in (1, 1 - len(x.shape)):
        raise source.error(f"convolution_param axis {cp.axis}; only the channel axis 1 is supported")
    if not cp.HasField("num_output"):
        raise source.error("convolution_param needs num_output", FormatError)
    n = len(x.shape) - 2
    if n < 1:
        raise source.error(f"bottom has shape {list(x.shape)}; Convolution needs (N, C, spatial...)", FormatError)
    kernel, strides, pads, dilations = read_conv_geometry(cp, n, where)
    c, m, g = x.shape[1], cp.num_output, cp.group
    if g < 1 or c % g or m % g:
        raise source.error(f"group {g} must divide the input channels {c} and num_output {m}", FormatError)
    weight_shape = (m, c // g, *kernel)
    blobs = ctx.layer_blobs(lp.name)
    weight: WeightSource
    bias: WeightSource | None = None
    if blobs is not None:
        w, b = kernel_blobs(source, blobs, weight_shape, bool(cp.bias_term), "(num_output, C / group, kernel...)")
        weight = Values(array=w)
        if b is not None:
            bias = Values(array=b)
    else:
        weight, bias = kernel_fillers(ctx, lp.name, cp, where, bool(cp.bias_term))
    training = _training_from_caffe(lp, where, 2 if cp.bias_term else 1, ctx)
    return [
        Convolution(
            name=lp.name,
            input=source.inputs[0],
            output=source.outputs[0],
            out_channels=m,
            kernel_shape=tuple(kernel),
            strides=tuple(strides),
            dilations=tuple(dilations),
            pads=tuple(pads) + tuple(pads),
            group=g,
            bias_term=bool(cp.bias_term),
            weight=weight,
            bias=bias,
            meta=Meta({TRAINING: training}) if training else Meta(),
        )
    ]


def blobs(layer: Convolution, source: CaffeLayer) -> list[np.ndarray]:
    """The blobs the prototxt layer ``source`` needs, from the IR layer read from it (materialised fillers)."""
    (x,) = source.in_types
    cp = source.param.convolution_param
    kernel = read_conv_geometry(cp, len(x.shape) - 2, source.where)[0]
    weight = layer.weight_array(x.shape[1])
    want = (cp.num_output, x.shape[1] // cp.group, *kernel)
    if weight.shape != want:
        raise source.error(
            f"has no blobs and convertkit's materialised weights have shape {list(weight.shape)}, not the "
            f"prototxt's {list(want)}; give --weights"
        )
    out = [weight]
    if cp.bias_term:
        bias = layer.bias_array()
        out.append(np.zeros(cp.num_output, np.float32) if bias is None else bias)
    return out


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """OpenCV runs 1-D, 2-D and 3-D Convolutions, but reads a lone ``kernel_size``/``stride``/``pad``/``dilation``
    of a layer past 2-D as two axes (measured, OpenCV 4.14: the output is mis-sized or the run fails)."""
    if rank is None or rank - 2 <= 2:
        return None
    cp = source.param.convolution_param
    lone = [f for f in ("kernel_size", "stride", "pad", "dilation") if len(getattr(cp, f)) == 1]
    if not lone:
        return None
    return (
        f"a {rank - 2}-D Convolution with one value for {', '.join(lone)}: valid Caffe (every axis), but OpenCV's "
        "Caffe reader takes a lone value as 2-D and mis-sizes the layer; write one value per axis (convertkit's "
        "writer does) or use --backend reference or onnxruntime"
    )


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Convolution] = CaffeFacet(
    write=write, types=TYPES, read=read, blobs=blobs, opencv_refusal=opencv_refusal
)
