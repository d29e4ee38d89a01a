"""Exact rewrites of a deconvolution's kernel that trade a larger kernel for a form more readers run.

Caffe has no output_padding and one ``pad`` per axis (both ends); OpenCV's ONNX and Caffe deconvolutions mis-size
``dilations``; OpenCV and onnx2torch refuse asymmetric ConvTranspose pads.  Writing the dilation out as zero taps
(a dense kernel) and zero-extending the kernel at one end moves the scatter by whole rows that receive nothing but
the bias, so symmetric pads (plus an output_padding below ``max_output_padding + 1``) crop exactly this layer's
rows.  One function serves the Caffe writer and the ONNX portable lowering.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .core import Deconvolution, Geometry

__all__ = [
    "symmetric_kernel",
    "WRITTEN_FOR",
    "written_for",
    "fold_written_for",
    "AS_2D",
    "AS_2D_PREFIX",
    "depth_folded",
]


def symmetric_kernel(
    layer: Deconvolution,
    in_channels: int,
    geo: Geometry,
    *,
    max_output_padding: Sequence[int] | None = None,
    dense_dilations: bool = True,
    dtype: np.dtype | None = None,
) -> tuple[np.ndarray, list[int], list[int], list[int], list[int]]:
    """``(weight, kernel, pad per axis, dilations, output_padding)`` of the exact symmetric form of this layer.

    The layer crops ``pb`` rows at the beginning of the scatter and ``pe' = pe - output_padding`` at the end
    (negative: rows appended, bias only).  On an axis where ``0 <= pb - pe' <= max_output_padding`` (0 when not
    given: Caffe) the pad is ``pb`` and output_padding ``pb - pe'``; elsewhere the kernel is zero-extended at the
    end (``pb`` larger) or the beginning (``pe'`` larger) by the fewest taps that bring the difference into that
    range.  With ``dense_dilations`` a dilated axis is always written dense (zero taps, dilation 1).
    """
    n = layer.spatial_rank
    limits = [0] * n if max_output_padding is None else list(max_output_padding)
    weight = layer.weight_array(in_channels) if dtype is None else layer.weight_array(in_channels, dtype)
    kernel, pads, dilations, output_padding = list(geo.kernel_shape), [], list(geo.dilations), []
    for a in range(n):
        pb, pe = geo.pads[a], geo.pads[n + a] - geo.output_padding[a]
        axis, d = 2 + a, dilations[a]
        fits = 0 <= pb - pe <= limits[a]
        dense = d > 1 and (dense_dilations or not fits)  # zero taps of a dilated kernel would move d rows each
        if fits and not dense:
            pads.append(pb)
            output_padding.append(pb - pe)
            continue
        if dense:
            dense_shape = list(weight.shape)
            dense_shape[axis] = d * (kernel[a] - 1) + 1
            spread = np.zeros(dense_shape, dtype=weight.dtype)
            index = [slice(None)] * weight.ndim
            index[axis] = slice(None, None, d)
            spread[tuple(index)] = weight
            weight = spread
            kernel[a], dilations[a] = weight.shape[axis], 1
        widths = [(0, 0)] * weight.ndim
        if pb - pe > limits[a]:  # zero taps at the end: the end crop grows until the rest is output_padding
            widths[axis] = (0, pb - pe - limits[a])
            pads.append(pb)
            output_padding.append(limits[a])
        elif pb < pe:  # zero taps at the beginning: the begin crop grows to pe'
            widths[axis] = (pe - pb, 0)
            pads.append(pe)
            output_padding.append(0)
        else:
            pads.append(pb)
            output_padding.append(pb - pe)
        weight = np.pad(weight, widths)
        kernel[a] = weight.shape[axis]
    return weight, kernel, pads, dilations, output_padding


#: ``meta`` key of a Deconvolution written in a portable form (:func:`symmetric_kernel`): :func:`written_for` of
#: the layer it stands for; the ONNX writer puts it in the ConvTranspose's ``doc_string``.
WRITTEN_FOR = "onnx.written_for"
_PREFIX = "convertkit portable form of: "


def written_for(geo: Geometry) -> str:
    """The record (a ``doc_string``) of the layer a portable form stands for: its kernel, dilations, explicit pads
    and output_padding (strides, group and channels are the form's own)."""
    import json

    record = {
        "kernel_shape": list(geo.kernel_shape),
        "dilations": list(geo.dilations),
        "pads": list(geo.pads),
        "output_padding": list(geo.output_padding),
    }
    return _PREFIX + json.dumps(record, separators=(",", ":"))


def fold_written_for(layer: Deconvolution, doc_string: str, in_spatial: Sequence[int]) -> Deconvolution | None:
    """The layer ``doc_string`` (:func:`written_for`) says ``layer`` stands for, when it verifies; else None.

    Verified per axis: an axis kept as it was (same kernel and dilation, same begin pad), or an axis written
    dense (dilation 1) whose taps at ``offset = written begin pad - original begin pad`` (``offset`` within the
    zero extension), every ``dilation``-th, are the original kernel and every other tap is zero; and the same
    output size.  Then the scatters agree row for row (the form's extra rows receive zero taps only), so the
    layer computes what ``layer`` computes.
    """
    import dataclasses
    import json

    from ...errors import ConvertkitError
    from ...fillers import Values
    from .core import Padding

    if not doc_string.startswith(_PREFIX) or not isinstance(layer.weight, Values):
        return None
    n = layer.spatial_rank
    try:
        record = json.loads(doc_string[len(_PREFIX) :])
        kernel = tuple(int(v) for v in record["kernel_shape"])
        dilations = tuple(int(v) for v in record["dilations"])
        pads = tuple(int(v) for v in record["pads"])
        output_padding = tuple(int(v) for v in record["output_padding"])
    except (ValueError, KeyError, TypeError):
        return None
    if (len(kernel), len(dilations), len(pads), len(output_padding)) != (n, n, 2 * n, n):
        return None
    try:
        geo = layer.geometry(tuple(in_spatial))
    except ConvertkitError:
        return None
    weight = layer.weight.array
    index: list[slice] = [slice(None), slice(None)]
    for a in range(n):
        written, offset = weight.shape[2 + a], geo.pads[a] - pads[a]
        extent = dilations[a] * (kernel[a] - 1) + 1
        if geo.dilations[a] == dilations[a] and written == kernel[a] and offset == 0:
            index.append(slice(None))
        elif geo.dilations[a] == 1 and kernel[a] >= 1 and 0 <= offset <= written - extent:
            index.append(slice(offset, offset + extent, dilations[a]))
        else:
            return None
    taps = weight[tuple(index)]
    spread = np.zeros_like(weight)
    spread[tuple(index)] = taps
    if not np.array_equal(spread, weight):
        return None  # a nonzero tap where the form has zeros: not convertkit's form, keep it as it is
    try:
        original = dataclasses.replace(
            layer,
            kernel_shape=kernel,
            dilations=dilations,
            padding=Padding(pads=pads),
            output_padding=output_padding,
            weight=Values(array=np.ascontiguousarray(taps)),
        )
        same = original.geometry(tuple(in_spatial)).output_spatial(tuple(in_spatial)) == geo.output_spatial(
            tuple(in_spatial)
        )
    except ConvertkitError:
        return None
    return original if same else None


#: ``meta`` key of the 2-D Deconvolution of a 1-D / 3-D layer written for OpenCV (:mod:`convertkit.passes.as_2d`):
#: a line starting with :data:`AS_2D_PREFIX` and the JSON record of the layer's depth axis, which the ONNX writer
#: puts in the ConvTranspose's ``doc_string`` (after a :data:`WRITTEN_FOR` line) and the reader into ``meta``.
AS_2D = "onnx.as_2d"
AS_2D_PREFIX = "convertkit 2-D form of an N-D deconvolution: "


def depth_folded(
    weight: np.ndarray, depth: int, out_depth: int, kernel: int, stride: int, dilation: int, pad: int
) -> np.ndarray:
    """A 3-D ConvTranspose weight ``(C, M / g, K, kh, kw)`` as the 2-D weight ``(C * D, M / g * OD, kh, kw)`` of the
    same layer with its depth axis folded into the channels: ``W2[c * D + i, m * OD + o] = w[c, m, k]`` where
    ``o = i * stride + k * dilation - pad`` is an output row (the scatter of input row ``i`` by tap ``k``, cropped
    by the begin pad), zero elsewhere.  Output rows past the scatter (output_padding) receive no tap: bias only."""
    c, mg, _, kh, kw = weight.shape
    folded = np.zeros((c, depth, mg, out_depth, kh, kw), dtype=weight.dtype)
    for i in range(depth):
        for k in range(kernel):
            o = i * stride + k * dilation - pad
            if 0 <= o < out_depth:
                folded[:, i, :, o] = weight[:, :, k]
    return folded.reshape(c * depth, mg * out_depth, kh, kw)
