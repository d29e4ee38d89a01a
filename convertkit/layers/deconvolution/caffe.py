"""Caffe facet of ``Deconvolution``: one stock ``Deconvolution`` layer, exact for every geometry."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ...codec.caffe import (
    CaffeEmitter,
    CaffeLayer,
    CaffeReader,
    filler_from_proto,
    filler_seed,
    filler_to_proto,
    kernel_blobs,
    read_conv_geometry,
    write_conv_geometry,
)
from ...errors import FormatError, UnsupportedError
from ...fillers import Filler, Values, WeightSource, bilinear_kernel
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import _RANDOM_FILLERS, BlobTraining, Deconvolution, Geometry, Padding
from .forms import symmetric_kernel

TYPES = ("Deconvolution",)


def caffe_kernel(
    layer: Deconvolution, in_channels: int, geo: Geometry
) -> tuple[np.ndarray, list[int], list[int], list[int]]:
    """The weight blob, kernel, pads and dilations of the exact Caffe form of this layer.

    Caffe crops ``pad`` rows at both ends of the scatter and has no output_padding.  This layer crops ``pb`` at
    the beginning and ``pe' = pe - output_padding`` at the end (negative: rows appended, bias only).  Where
    ``pb != pe'`` on an axis, the kernel is made dense there (dilation written out as zero taps) and
    zero-extended by ``|pb - pe'|`` taps at the end (``pb > pe'``) or the beginning, and ``pad = max(pb, pe')``:
    the zero taps add scatter rows that receive nothing but the bias, so cropping ``pad`` at both ends leaves
    exactly this layer's rows.  Exact for every geometry; the cost is a larger kernel.

    A dilated axis is always written dense (zero taps, dilation 1), even with symmetric crops: Caffe's
    ``dilation`` is exact in Caffe, but OpenCV's Caffe Deconvolution ignores it when sizing the output, so a
    prototxt with ``dilation`` would compute differently in the two runtimes.
    """
    weight, kernel, pads, dilations, _ = symmetric_kernel(layer, in_channels, geo)
    return weight, kernel, pads, dilations


def write(layer: Deconvolution, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    """One Caffe ``Deconvolution`` (exact for asymmetric pads and output_padding, see :func:`caffe_kernel`)."""
    x = types[0]
    geo = layer.geometry(x.shape[2:])
    weight, kernel, pads, dilations = caffe_kernel(layer, x.shape[1], geo)
    reshaped = tuple(kernel) != tuple(geo.kernel_shape)
    proto = ctx.add_layer(layer.name, "Deconvolution", [layer.input], [layer.output])
    cp = proto.convolution_param
    cp.num_output = layer.out_channels
    if not layer.bias_term:
        cp.bias_term = False
    write_conv_geometry(cp, kernel, geo.strides, pads, dilations)
    if layer.group != 1:
        cp.group = layer.group
    # Caffe's BilinearFiller accepts only 4-D square blobs (it CHECK-fails otherwise, even when a caffemodel
    # then overwrites the blob); any other bilinear kernel lives in the caffemodel only.
    caffe_fills = not (
        isinstance(layer.weight, Filler)
        and layer.weight.type == "bilinear"
        and (len(kernel) != 2 or kernel[0] != kernel[1])
    )
    if isinstance(layer.weight, Filler) and not reshaped and caffe_fills:
        filler_to_proto(layer.weight, cp.weight_filler)
    if isinstance(layer.bias, Filler):
        filler_to_proto(layer.bias, cp.bias_filler)
    if layer.blob_training:
        ctx.add_training(proto, layer.blob_training)
    elif layer.frozen:
        ctx.freeze(proto, len(layer.blob_names))
    blobs = [weight]
    bias = layer.bias_array()
    if bias is not None:
        blobs.append(bias)
    if not ctx.with_weights:
        lost = []
        if reshaped:
            lost.append("its kernel is zero-extended for the exact Caffe form, which no filler describes")
        elif not caffe_fills:
            lost.append("its bilinear kernel is not 2-D square, which Caffe's bilinear filler refuses")
        elif isinstance(layer.weight, Values):
            lost.append("its weights are explicit values")
        elif isinstance(layer.weight, Filler) and _caffe_loses_seed(layer, layer.weight, 0):
            lost.append(_seed_lost("weights", layer.weight))
        if isinstance(layer.bias, Values):
            lost.append("its bias is explicit values")
        elif isinstance(layer.bias, Filler) and _caffe_loses_seed(layer, layer.bias, 1):
            lost.append(_seed_lost("bias", layer.bias))
        if lost:
            ctx.warn(
                f"layer {layer.name!r} (Deconvolution): {' and '.join(lost)}, but no .caffemodel is written "
                "(--no-weights); Caffe would fill those blobs from the prototxt instead"
            )
    ctx.add_blobs(proto, blobs)


def _seed_lost(blob: str, source: Filler) -> str:
    verb = "come" if blob == "weights" else "comes"
    return f"its {blob} {verb} from a {source.type} filler with seed {source.seed}, which Caffe's filler cannot carry"


def _caffe_loses_seed(layer: Deconvolution, source: Filler, blob: int) -> bool:
    """Whether ``source`` is a random filler whose values a prototxt alone does not give back.

    Caffe's FillerParameter has no seed: reading the prototxt draws with the reader's own seed for the blob,
    which is the same values only when the filler already had that seed (a layer read from a prototxt).
    """
    return source.type in _RANDOM_FILLERS and source.seed != filler_seed(layer.name, blob)


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    """A Caffe ``Deconvolution`` (weights from the caffemodel, else its fillers, else zeros or --fill-missing)."""
    lp, inputs, outputs, in_types = source.param, source.inputs, source.outputs, source.in_types
    where = f"layer {lp.name!r} (Deconvolution)"
    if len(inputs) != 1 or len(outputs) != 1:
        raise UnsupportedError(
            f"{where}: has {len(inputs)} bottoms and {len(outputs)} tops; convertkit converts one of each"
        )
    cp = lp.convolution_param
    x = in_types[0]
    if cp.axis not in (1, 1 - len(x.shape)):
        raise UnsupportedError(f"{where}: convolution_param axis {cp.axis}; only the channel axis 1 is supported")
    if not cp.HasField("num_output"):
        raise FormatError(f"{where}: convolution_param needs num_output")
    n = len(x.shape) - 2
    kernel, strides, pads, dilations = read_conv_geometry(cp, n, where)
    c, m, g = x.shape[1], cp.num_output, cp.group
    if g < 1 or c % g or m % g:
        raise FormatError(f"{where}: group {g} must divide the input channels {c} and num_output {m}")
    weight_shape = (c, m // g, *kernel)
    blobs = ctx.layer_blobs(lp.name)
    bias: WeightSource | None = None
    if blobs is not None:
        w, b = kernel_blobs(source, blobs, weight_shape, bool(cp.bias_term), "(C, num_output / group, kernel...)")
        weight: WeightSource = Values(array=w)
        if b is not None:
            bias = Values(array=b)
    else:
        if ctx.weights is not None:
            ctx.warn(f"{where}: the caffemodel has no blobs for this layer; using the prototxt's fillers")
        if cp.HasField("weight_filler"):
            weight = filler_from_proto(cp.weight_filler, where, ctx.filler_seed(lp.name, 0))
        elif ctx.fill_missing == "bilinear":
            if g == 1 and c == m:
                diagonal = np.zeros(weight_shape, dtype=np.float32)
                diagonal[np.arange(c), np.arange(c)] = bilinear_kernel(tuple(kernel))
                weight = Values(array=diagonal)
            else:
                weight = Filler(type="bilinear")
            ctx.warn(f"{where}: no weights and no weight_filler; filled with bilinear kernels (--fill-missing)")
        else:
            weight = Filler(type="constant", value=0.0)
            ctx.warn(
                f"{where}: no weights and no weight_filler, so Caffe's default applies: all zeros "
                "(give --weights, or --fill-missing bilinear for FCN-style upsampling)"
            )
        if cp.bias_term and cp.HasField("bias_filler"):
            bias = filler_from_proto(cp.bias_filler, where, ctx.filler_seed(lp.name, 1))
    training = _training_from_caffe(lp, where, 2 if cp.bias_term else 1, ctx)
    layer = Deconvolution(
        name=lp.name,
        input=inputs[0],
        output=outputs[0],
        out_channels=m,
        kernel_shape=tuple(kernel),
        strides=tuple(strides),
        dilations=tuple(dilations),
        padding=Padding(convention="caffe", pad=tuple(pads)),
        group=g,
        bias_term=bool(cp.bias_term),
        weight=weight,
        bias=bias,
        training=training,
    )
    diagonal_kernel = layer.diagonal_kernel(c)
    if diagonal_kernel is not None:
        if ctx.compact:
            # FCN's surgery puts Caffe's bilinear kernel on the diagonal: then the grouped layer *is* the
            # bilinear filler (exactly, in float32) and is written back as such.
            bilinear = bilinear_kernel(tuple(kernel)).astype(np.float32)
            is_bilinear = bool(np.all(diagonal_kernel == bilinear))
            compact_weight: WeightSource = (
                Filler(type="bilinear") if is_bilinear else Values(array=np.ascontiguousarray(diagonal_kernel[:, None]))
            )
            layer = dataclasses.replace(layer, group=m, weight=compact_weight)
            ctx.note(
                f"{where}: diagonal weights of one kernel per channel emitted as group {m} (--compact)"
                + ("; they are Caffe's bilinear kernel, written as the bilinear filler" if is_bilinear else "")
            )
        else:
            ctx.note(
                f"{where}: the weights are a diagonal of per-channel kernels (FCN surgery); --compact emits the "
                f"equivalent group {m} layer with {m}x fewer weights"
            )
    return [layer]


def _training_from_caffe(lp: Any, where: str, n_blobs: int, ctx: CaffeReader) -> tuple[BlobTraining, ...]:
    """The layer's ``param { }`` entries as written (absent fields stay None, floats as the float32 read)."""
    params = list(lp.param)
    if len(params) > n_blobs:
        # Caffe's Net::Init refuses this ("Too many params specified"); old V1 nets wrote blobs_lr per blob
        # whatever bias_term said, so read the net and write a valid one.
        ctx.warn(
            f"{where}: {len(params)} param {{ }} entries for {n_blobs} blob(s) "
            f"(weights{' and bias' if n_blobs == 2 else ''}); the extra ones are dropped (Caffe refuses them)"
        )
        params = params[:n_blobs]

    def number(p: Any, fname: str) -> float | None:
        # proto floats are float32: keep the shortest decimal that reads back as the same float32 (0.1, not
        # 0.10000000149011612), so specs show what the user wrote.
        return float(str(np.float32(getattr(p, fname)))) if p.HasField(fname) else None

    if any(p.HasField("share_mode") for p in params):
        ctx.warn(f"{where}: param share_mode is not kept (convertkit keeps lr_mult, decay_mult and name)")
    return tuple(
        BlobTraining(
            lr_mult=number(p, "lr_mult"),
            decay_mult=number(p, "decay_mult"),
            name=p.name if p.HasField("name") else None,
        )
        for p in params
    )


def blobs(layer: Deconvolution, source: CaffeLayer) -> list[np.ndarray]:
    """The blobs the prototxt layer ``source`` needs, from the IR layer read from it (materialised fillers).

    ``--compact`` reads the diagonal of a full layer as a grouped one; the prototxt wants the full blob back.
    """
    (x,) = source.in_types
    cp = source.param.convolution_param
    kernel = read_conv_geometry(cp, len(x.shape) - 2, source.where)[0]
    c, m, g = x.shape[1], cp.num_output, cp.group
    weight = layer.weight_array(c)
    if layer.group != g and g == 1 and layer.group == c == m:
        full = np.zeros((c, m, *weight.shape[2:]), dtype=weight.dtype)
        full[np.arange(c), np.arange(c)] = weight[:, 0]
        weight = full
    if weight.shape != (c, m // g, *kernel):
        raise source.error(
            f"has no blobs and convertkit's materialised weights have shape {list(weight.shape)}, not the "
            f"prototxt's {[c, m // g, *kernel]}; give --weights"
        )
    out = [weight]
    if cp.bias_term:
        bias = layer.bias_array()
        out.append(np.zeros(m, np.float32) if bias is None else bias)
    return out


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """OpenCV's Caffe Deconvolution is 2-D only."""
    if rank is not None and rank != 4:
        return (
            f"OpenCV's Caffe Deconvolution is 2-D only, this one is {rank - 2}-D; the prototxt is valid Caffe — use "
            "--backend reference or onnxruntime, or check without --caffe (ONNX), or use 2-D layers"
        )
    return None


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Deconvolution] = CaffeFacet(
    write=write, types=TYPES, read=read, blobs=blobs, opencv_refusal=opencv_refusal
)
