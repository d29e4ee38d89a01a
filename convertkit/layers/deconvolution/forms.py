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

__all__ = ["symmetric_kernel"]


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
