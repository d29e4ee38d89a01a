"""Deconvolution's multi-node forms, defined once.

**output_padding past the stride** (ONNX): onnxruntime refuses ``output_padding >= stride``, which PyTorch allows
below the dilation and which an ``output_shape`` past the scatter also needs.  The end pad absorbs output_padding
first (the appended rows are cropped again: exact); what stays below the stride is the attribute; the rest is
``Deconvolution`` (no bias) -> ``Pad`` (zero rows at the end) [-> ``Crop`` of leading rows, when the begin pads
crop the whole scatter, since onnxruntime refuses an empty ConvTranspose output] [-> ``Bias``, so the appended rows
hold the bias only, as in the definition].  The fusion folds that chain back into one Deconvolution.

**A crop of a deconvolution's rows** (Caffe export) is more pads: ``Deconvolution -> Crop`` whose explicit crop
keeps rows ``[lo, hi)`` of spatial axes only is one Deconvolution with ``lo`` more begin pad and
``out - hi`` more end pad.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .. import shapes
from ..errors import ConvertkitError
from ..fillers import Values
from ..ir import Layer, TensorType
from ..layers.bias import Bias
from ..layers.crop import Crop
from ..layers.deconvolution import Deconvolution, Padding
from ..layers.pad import Pad
from . import ExportOptions, Fusion, Graph, Lowering

__all__ = ["output_padding_split", "LOWERINGS", "FUSIONS"]


def output_padding_split(
    layer: Deconvolution, x: TensorType
) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """``(begin, end, attribute output_padding, appended rows, leading rows to crop)`` per spatial axis.

    The end pad absorbs output_padding first; below the stride the rest is the attribute, else appended by a Pad;
    where the begin pads would crop the whole scatter, one row is kept and the surplus cropped after the Pad.
    """
    geo = layer.geometry(x.shape[2:])
    n = layer.spatial_rank
    begin, end = list(geo.pads[:n]), list(geo.pads[n:])
    attr_op, appended, lead = [0] * n, [0] * n, [0] * n
    for a in range(n):
        absorbed = min(end[a], geo.output_padding[a])
        end[a] -= absorbed
        rest = geo.output_padding[a] - absorbed
        if rest < geo.strides[a]:
            attr_op[a] = rest
        else:
            appended[a] = rest
            full = shapes.conv_transpose_full_size(
                x.shape[2 + a], geo.kernel_shape[a], geo.strides[a], geo.dilations[a]
            )
            lead[a] = max(0, begin[a] - (full - 1))
            begin[a] -= lead[a]
    return begin, end, attr_op, appended, lead


#: Meta key of a lowered Deconvolution whose kernel the portable lowering must keep as it is.
_KEEP_KERNEL = "convertkit.keep_kernel"


def _marked(layer: Layer) -> Layer:
    return dataclasses.replace(layer, meta=layer.meta.with_(_KEEP_KERNEL, True))


def lower_output_padding(
    layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions
) -> list[Layer] | None:
    """ONNX: ``Deconvolution -> Pad -> [Crop] -> [Bias]`` where output_padding is past what the attribute takes."""
    from ..portability import needs_form

    if not isinstance(layer, Deconvolution):
        return None
    x = types[0]
    begin, end, attr_op, appended, lead = output_padding_split(layer, x)
    if not any(appended):
        return None
    dilations = layer.geometry(x.shape[2:]).dilations
    if needs_form(options.runtime, "dense_dilations") and all(
        d > 1 for d, a in zip(dilations, appended, strict=True) if a
    ):
        # output_padding >= stride rests on the dilation (ONNX allows it below max(stride, dilation)); written
        # dense, its rows lie past the full scatter (zeros + bias), so zero taps at the end of the dense kernel
        # give them exactly: the portable kernel lowering writes this layer with output_padding below the stride.
        return None
    n = layer.spatial_rank
    name = layer.name
    bias = layer.bias_array(np.dtype(x.dtype))
    steps: list[Layer] = []
    conv = dataclasses.replace(
        layer,
        output=graph.names.fresh(f"{name}.unpadded"),
        padding=Padding(pads=tuple(begin + end)),
        output_padding=tuple(attr_op),
        bias_term=False,
        bias=None,
        training=None,
    )
    # Its output_padding rests on the dilation (PyTorch's rule): a dilated kernel's zero taps move d rows each, so
    # the portable kernel lowering leaves it (targets with dense_dilations do not come here), and the chain folds
    # back on import.
    steps.append(_marked(conv))
    last = bias is None and not any(lead)
    pad = Pad(
        name=graph.names.fresh(f"{name}.output_padding"),
        input=conv.output,
        output=layer.output if last else graph.names.fresh(f"{name}.pad"),
        pads=(0,) * n + tuple(appended),
    )
    steps.append(pad)
    value = pad.output
    if any(lead):
        (padded,) = pad.infer(conv.infer([x]))
        crop = Crop(
            name=graph.names.fresh(f"{name}.crop"),
            input=value,
            output=layer.output if bias is None else graph.names.fresh(f"{name}.slice"),
            axis=2,
            offset=tuple(lead),
            shape=tuple(d - lo for d, lo in zip(padded.shape[2:], lead, strict=True)),
        )
        steps.append(crop)
        value = crop.output
    if bias is not None:
        steps.append(
            Bias(name=graph.names.fresh(f"{name}.bias"), input=value, output=layer.output, bias=Values(array=bias))
        )
    return steps


def lower_portable_kernel(
    layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions
) -> list[Layer] | None:
    """ONNX for a runtime that mis-sizes ``dilations`` or refuses asymmetric pads: the same layer with its
    dilation written as zero taps and its kernel zero-extended so the pads are symmetric (exact, a larger kernel;
    :func:`convertkit.layers.deconvolution.forms.symmetric_kernel`).  Which runtimes need which:
    :data:`convertkit.portability.FORMS`."""
    from ..layers.deconvolution.forms import symmetric_kernel
    from ..portability import needs_form

    if not isinstance(layer, Deconvolution) or layer.meta.get(_KEEP_KERNEL):
        return None
    x = types[0]
    geo = layer.geometry(x.shape[2:])
    n = layer.spatial_rank
    dense = needs_form(options.runtime, "dense_dilations") and any(d > 1 for d in geo.dilations)
    limits = [s - 1 for s in geo.strides]
    asymmetric = any(not 0 <= geo.pads[a] - (geo.pads[n + a] - geo.output_padding[a]) <= limits[a] for a in range(n))
    if not (dense or (asymmetric and needs_form(options.runtime, "symmetric_pads"))):
        return None
    weight, kernel, pads, dilations, output_padding = symmetric_kernel(
        layer, x.shape[1], geo, max_output_padding=limits, dense_dilations=dense, dtype=np.dtype(x.dtype)
    )
    from ..layers.deconvolution.forms import WRITTEN_FOR, written_for

    return [
        dataclasses.replace(
            layer,
            kernel_shape=tuple(kernel),
            dilations=tuple(dilations),
            padding=Padding(pads=tuple(pads + pads)),
            output_padding=tuple(output_padding),
            weight=Values(array=weight),
            meta=layer.meta.with_(WRITTEN_FOR, written_for(geo)),
        )
    ]


def fuse_output_padding(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """``Deconvolution`` (no bias) -> ``Pad`` (zeros at the end) [-> ``Crop`` of leading rows] [-> ``Bias``]: one
    Deconvolution with output_padding + the appended rows, the crop added to the begin pads, the Bias as bias —
    exactly, when the appended rows lie past the scatter (the Deconvolution's end pad <= its output_padding)."""
    if len(chain) < 2 or not isinstance(chain[0], Deconvolution) or not isinstance(chain[1], Pad):
        return None
    base, pad = chain[0], chain[1]
    if base.meta.get(_KEEP_KERNEL):
        base = dataclasses.replace(base, meta=base.meta.without(_KEEP_KERNEL))
    if base.bias_term or pad.mode != "constant" or pad.value != 0.0 or np.signbit(pad.value):
        return None
    x = graph.types[base.input]
    n = base.spatial_rank
    if pad.spatial_rank != n or any(pad.pads[:n]):
        return None
    geo = base.geometry(x.shape[2:])
    appended = list(pad.pads[n:])
    if any(p and e > op for p, e, op in zip(appended, geo.pads[n:], geo.output_padding, strict=True)):
        return None
    padded = graph.types[pad.output]
    lead, bias, used, value = [0] * n, None, 2, pad.output
    for layer in chain[2:]:
        if isinstance(layer, Crop) and layer.shape is not None and bias is None and not any(lead):
            axis, offsets = layer.starts(padded.shape)
            sizes = layer.sizes([padded])
            if axis < 2 or any(o + s != d for o, s, d in zip(offsets, sizes, padded.shape[axis:], strict=True)):
                break
            for a, o in enumerate(offsets):
                lead[axis - 2 + a] = o
        elif isinstance(layer, Bias) and bias is None:
            b = layer.bias_array(base.out_channels, np.dtype(x.dtype))
            if isinstance(layer.bias, Values) and layer.bias.array.dtype != np.dtype(x.dtype):
                break
            bias = b
        else:
            break
        used += 1
        value = layer.output
    begin = [p + lo for p, lo in zip(geo.pads[:n], lead, strict=True)]
    end, output_padding = list(geo.pads[n:]), [op + p for op, p in zip(geo.output_padding, appended, strict=True)]
    for a in range(n):
        if appended[a]:  # the writer's symmetric pads + output_padding: the end pad absorbs it again (same rows)
            absorbed = min(end[a], output_padding[a])
            end[a] -= absorbed
            output_padding[a] -= absorbed
    pads = tuple(begin + end)
    common: dict[str, Any] = {
        "output": value,
        "bias_term": bias is not None,
        "bias": Values(array=bias) if bias is not None else None,
    }
    try:
        fused = dataclasses.replace(base, padding=Padding(pads=pads), output_padding=tuple(output_padding), **common)
    except ConvertkitError:
        # output_padding past the stride and the dilation is an output_shape past the scatter (the spec form
        # that exported this chain); that convention puts the extra rows at the end when nothing is cropped.
        if any(pads):
            return None
        out = graph.types[value].shape[2:]
        fused = dataclasses.replace(
            base,
            padding=Padding(convention="onnx_output_shape", output_shape=tuple(out)),
            output_padding=(0,) * n,
            **common,
        )
        if fused.geometry(x.shape[2:]) != dataclasses.replace(geo, pads=pads, output_padding=tuple(output_padding)):
            return None
    return fused, used


def fold_crop_into_pads(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """``Deconvolution -> Crop`` (explicit, spatial axes only) is one Deconvolution with larger pads."""
    if len(chain) < 2 or not isinstance(chain[0], Deconvolution) or not isinstance(chain[1], Crop):
        return None
    deconv, crop = chain[0], chain[1]
    if crop.shape is None:
        return None
    x = graph.types[deconv.input]
    out = graph.types[deconv.output]
    axis, offsets = crop.starts(out.shape)
    if axis < 2:
        return None
    n = deconv.spatial_rank
    geo = deconv.geometry(x.shape[2:])
    lo, hi = [0] * n, [0] * n
    for a, (o, s) in enumerate(zip(offsets, crop.sizes([out]), strict=True)):
        lo[axis - 2 + a] = o
        hi[axis - 2 + a] = out.shape[axis + a] - o - s
    pads = tuple(p + d for p, d in zip(geo.pads, lo + hi, strict=True))
    fused = dataclasses.replace(
        deconv, output=crop.output, padding=Padding(pads=pads), output_padding=geo.output_padding
    )
    return fused, 2


LOWERINGS: dict[str, list[Lowering]] = {"onnx": [lower_output_padding, lower_portable_kernel]}
FUSIONS: dict[str, list[tuple[int, Fusion]]] = {
    "import": [(4, fuse_output_padding)],
    "caffe-export": [(2, fold_crop_into_pads)],
}
