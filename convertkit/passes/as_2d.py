"""A 1-D or 3-D Deconvolution as a 2-D one between Reshapes, for ``--target opencv``: OpenCV 4.x's ONNX
ConvTranspose is 2-D only (``convertkit.portability.DEFECTS``), while its Reshape takes 3-D and 5-D tensors.

- **1-D**: ``Reshape (N, C, L) -> (N, C, 1, L)`` -> a 2-D Deconvolution with kernel ``(1, k)`` (stride, dilation,
  pads, output_padding and group on the second axis; the first axis the identity) -> ``Reshape`` back.
- **3-D**: the depth axis folded into the channels: ``Reshape (N, C, D, H, W) -> (N, C * D, H, W)`` -> one 2-D
  Deconvolution, ``C * D -> M * OD`` channels, same group (a group's channels stay contiguous: ``c * D + i`` and
  ``m * OD + o``), whose weight holds tap ``k`` of the depth axis where input row ``i`` scatters to output row
  ``o = i * stride + k * dilation - pad_begin`` (:func:`convertkit.layers.deconvolution.forms.depth_folded`; every
  depth pad, dilation and output_padding is in the weight), the bias repeated per output row -> ``Reshape
  (N, M * OD, OH, OW) -> (N, M, OD, OH, OW)``.  Exact (the same products, summed in another order); larger
  (``D * OD / K`` times the weight) and slower, so only the ``opencv`` target takes it
  (``convertkit.portability.FORMS`` ``nd_as_2d``).

The 2-D layer then takes the portable forms OpenCV needs (symmetric pads, dense dilations, output_padding past the
stride) like any 2-D layer.  Its ``meta`` holds the record of the depth axis (written in the ConvTranspose's
``doc_string``), and the import fusion folds ``Reshape -> Deconvolution -> Reshape`` with that record back into the
1-D / 3-D layer, where the weight verifies tap for tap.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from ..errors import ConvertkitError, UnsupportedError
from ..fillers import Values
from ..ir import Layer, TensorType
from ..layers.deconvolution import Deconvolution, Padding
from ..layers.deconvolution.core import Geometry
from ..layers.deconvolution.forms import AS_2D, AS_2D_PREFIX, depth_folded
from ..layers.reshape import Reshape
from . import ExportOptions, Fusion, Graph, Lowering

__all__ = ["lower_as_2d", "fuse_as_2d", "LOWERINGS", "FUSIONS", "MAX_FOLDED_WEIGHTS"]

#: The largest folded 3-D weight the opencv form writes (256 MB of float32); a larger one is refused.
MAX_FOLDED_WEIGHTS = 1 << 26


def lower_as_2d(layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions) -> list[Layer] | None:
    """ONNX for OpenCV: a 1-D / 3-D Deconvolution as ``Reshape -> Deconvolution (2-D) -> Reshape``."""
    from ..portability import needs_form

    if (
        not isinstance(layer, Deconvolution)
        or layer.spatial_rank not in (1, 3)
        or not needs_form(options.runtime, "nd_as_2d")
    ):
        return None
    x = types[0]
    n = layer.spatial_rank
    geo = layer.geometry(x.shape[2:])
    out = geo.output_spatial(x.shape[2:])
    dtype = np.dtype(x.dtype)
    weight = layer.weight_array(x.shape[1], dtype)
    bias = layer.bias_array(dtype)
    batch, channels = x.shape[:2]
    m = layer.out_channels
    k, s, d, op = geo.kernel_shape, geo.strides, geo.dilations, geo.output_padding
    begin, end = geo.pads[:n], geo.pads[n:]
    record: dict[str, Any] = {"rank": n}
    padding, output_padding = _padding_2d(layer, geo)
    if n == 1:
        (length,) = x.shape[2:]
        flat_in = (batch, channels, 1, length)
        fields: dict[str, Any] = {
            "kernel_shape": (1, k[0]),
            "strides": (1, s[0]),
            "dilations": (1, d[0]),
            "padding": padding,
            "output_padding": output_padding,
            "weight": Values(array=weight[:, :, None, :]),
        }
    else:
        depth, h, w = x.shape[2:]
        flat_in = (batch, channels * depth, h, w)
        folded = weight.size // k[0] * depth * out[0]
        if folded > MAX_FOLDED_WEIGHTS:
            raise layer.error(
                f"its 2-D form for OpenCV (depth folded into channels) would hold {folded:,} weights "
                f"({folded * dtype.itemsize / 1e6:,.0f} MB, depth {depth} x output depth {out[0]} / kernel {k[0]} "
                f"times the layer's {weight.size:,}), over the {MAX_FOLDED_WEIGHTS:,} this form allows; OpenCV's "
                "ONNX ConvTranspose is 2-D only: export with --target portable for onnxruntime / OpenVINO, or cut "
                "the volume",
                UnsupportedError,
            )
        record.update(kernel=k[0], stride=s[0], dilation=d[0], pads=[begin[0], end[0]], output_padding=op[0])
        fields = {
            "out_channels": m * out[0],
            "kernel_shape": k[1:],
            "strides": s[1:],
            "dilations": d[1:],
            "padding": padding,
            "output_padding": output_padding,
            "weight": Values(array=depth_folded(weight, depth, out[0], k[0], s[0], d[0], begin[0])),
        }
        if bias is not None:
            bias = np.repeat(bias, out[0])
    name = layer.name
    before = Reshape(
        name=graph.names.fresh(f"{name}.as_2d"),
        input=layer.input,
        output=graph.names.fresh(f"{name}.2d_input"),
        shape=flat_in,
    )
    conv = dataclasses.replace(
        layer,
        input=before.output,
        output=graph.names.fresh(f"{name}.2d_output"),
        bias=Values(array=bias) if bias is not None else None,
        meta=layer.meta.with_(AS_2D, AS_2D_PREFIX + json.dumps(record, separators=(",", ":"))),
        **fields,
    )
    expected = (
        ((1, *k), (1, *s), (1, *d), (0, begin[0], 0, end[0]), (0, *op))
        if n == 1
        else (k[1:], s[1:], d[1:], (*begin[1:], *end[1:]), op[1:])
    )
    geo2 = conv.geometry(flat_in[2:])
    if (geo2.kernel_shape, geo2.strides, geo2.dilations, geo2.pads, geo2.output_padding) != expected:
        return None  # not the same rows on the kept axes (cannot happen for the conventions above): as it is
    after = Reshape(
        name=graph.names.fresh(f"{name}.from_2d"), input=conv.output, output=layer.output, shape=(batch, m, *out)
    )
    return [before, conv, after]


def _padding_2d(layer: Deconvolution, geo: Geometry) -> tuple[Padding, tuple[int, ...]]:
    """The padding and output_padding of the 2-D layer: the resolved explicit pads of the kept axes for explicit,
    Caffe and PyTorch pads; else the layer's convention (output_shape, auto_pad) with the added axis of 1-D the
    identity (size 1) and the depth axis of 3-D dropped (the weight holds it) — an output_shape past the scatter
    has an output_padding no explicit form takes."""
    n, p = layer.spatial_rank, layer.padding
    if p.convention in ("explicit", "caffe", "pytorch"):
        if n == 1:
            return Padding(pads=(0, geo.pads[0], 0, geo.pads[1])), (0, geo.output_padding[0])
        return Padding(pads=(*geo.pads[1:3], *geo.pads[4:])), geo.output_padding[1:]
    assert p.output_shape is not None or p.convention == "onnx_auto_pad"
    op = tuple(layer.output_padding or (0,) * n)
    shape = None
    if p.output_shape is not None:
        shape = (1, *p.output_shape) if n == 1 else tuple(p.output_shape[1:])
    padding = Padding(convention=p.convention, output_shape=shape, auto_pad=p.auto_pad)
    return padding, (0, *op) if n == 1 else op[1:]


def _record(layer: Deconvolution) -> dict[str, Any] | None:
    line = layer.meta.get(AS_2D)
    if not isinstance(line, str) or not line.startswith(AS_2D_PREFIX):
        return None
    try:
        record = json.loads(line[len(AS_2D_PREFIX) :])
    except ValueError:
        return None
    return record if isinstance(record, dict) and record.get("rank") in (1, 3) else None


def fuse_as_2d(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """``Reshape -> Deconvolution (2-D, with the record of :func:`lower_as_2d`) -> Reshape``: the 1-D / 3-D
    Deconvolution it stands for, where the shapes are that form's and (3-D) the weight is the folded form of a
    3-D kernel tap for tap and the bias repeats per output row."""
    if len(chain) < 3:
        return None
    before, conv, after = chain[:3]
    if (
        not isinstance(before, Reshape)
        or not isinstance(conv, Deconvolution)
        or not isinstance(after, Reshape)
        or conv.spatial_rank != 2
    ):
        return None
    record = _record(conv)
    if record is None:
        return None
    x, y2, y = graph.types[before.input], graph.types[conv.output], graph.types[after.output]
    flat = graph.types[before.output]
    geo = conv.geometry(flat.shape[2:])
    n = record["rank"]
    if len(x.shape) != n + 2 or len(y.shape) != n + 2:
        return None
    meta = conv.meta.without(AS_2D)
    common: dict[str, Any] = {"input": before.input, "output": after.output, "meta": meta}
    try:
        if n == 1:
            if (
                flat.shape != (*x.shape[:2], 1, x.shape[2])
                or y2.shape != (*y.shape[:2], 1, y.shape[2])
                or (geo.kernel_shape[0], geo.strides[0], geo.dilations[0], geo.output_padding[0]) != (1, 1, 1, 0)
                or (geo.pads[0], geo.pads[2]) != (0, 0)
            ):
                return None
            weight = conv.weight_array(flat.shape[1])
            wanted = Geometry(
                (geo.kernel_shape[1],),
                (geo.strides[1],),
                (geo.dilations[1],),
                (geo.pads[1], geo.pads[3]),
                (geo.output_padding[1],),
            )
            fused = _built(conv, wanted, x.shape[2:], y.shape[2:], weight=np.ascontiguousarray(weight[:, :, 0, :]))
            return None if fused is None else (dataclasses.replace(fused, **common), 3)
        batch, channels, depth, h, w = x.shape
        m, out_depth = y.shape[1], y.shape[2]
        if flat.shape != (batch, channels * depth, h, w) or y2.shape != (batch, m * out_depth, *y.shape[3:]):
            return None
        kernel, stride, dilation = int(record["kernel"]), int(record["stride"]), int(record["dilation"])
        pad_begin, pad_end = (int(p) for p in record["pads"])
        output_padding = int(record["output_padding"])
        folded = conv.weight_array(channels * depth)
        mg = m // conv.group
        if kernel < 1 or m % conv.group or folded.shape[1] != mg * out_depth:
            return None
        view = folded.reshape(channels, depth, mg, out_depth, *folded.shape[2:])
        taps = np.zeros((channels, mg, kernel, *folded.shape[2:]), dtype=folded.dtype)
        for k in range(kernel):  # any input row that reaches an output row with tap k (none: the tap does nothing)
            for i in range(depth):
                o = i * stride + k * dilation - pad_begin
                if 0 <= o < out_depth:
                    taps[:, :, k] = view[:, i, :, o]
                    break
        if not np.array_equal(depth_folded(taps, depth, out_depth, kernel, stride, dilation, pad_begin), folded):
            return None
        bias = conv.bias_array(folded.dtype)
        if bias is not None:
            rows = bias.reshape(m, out_depth)
            if not np.array_equal(rows, np.repeat(rows[:, :1], out_depth, axis=1)):
                return None
            bias = np.ascontiguousarray(rows[:, 0])
        wanted = Geometry(
            (kernel, *geo.kernel_shape),
            (stride, *geo.strides),
            (dilation, *geo.dilations),
            (pad_begin, *geo.pads[:2], pad_end, *geo.pads[2:]),
            (output_padding, *geo.output_padding),
        )
        fused = _built(conv, wanted, x.shape[2:], y.shape[2:], weight=taps, bias=bias, out_channels=m)
    except (KeyError, TypeError, ValueError):
        return None
    return None if fused is None else (dataclasses.replace(fused, **common), 3)


def _built(
    conv: Deconvolution,
    wanted: Geometry,
    in_spatial: tuple[int, ...],
    out_spatial: tuple[int, ...],
    *,
    weight: np.ndarray,
    bias: np.ndarray | None | str = "keep",
    out_channels: int | None = None,
) -> Deconvolution | None:
    """``conv`` with the geometry ``wanted``: explicit pads, or where its output_padding is past the stride and the
    dilation (an output_shape past the scatter), ``output_shape`` with ``conv``'s auto_pad; None where neither
    gives ``wanted``."""
    fields: dict[str, Any] = {
        "kernel_shape": wanted.kernel_shape,
        "strides": wanted.strides,
        "dilations": wanted.dilations,
        "weight": Values(array=weight),
    }
    if out_channels is not None:
        fields["out_channels"] = out_channels
    if not isinstance(bias, str):
        fields["bias"] = Values(array=bias) if bias is not None else None
    n = len(wanted.kernel_shape)
    for padding, output_padding in (
        (Padding(pads=wanted.pads), wanted.output_padding),
        (Padding(convention="onnx_output_shape", output_shape=out_spatial, auto_pad=conv.padding.auto_pad), (0,) * n),
    ):
        try:
            fused = dataclasses.replace(conv, padding=padding, output_padding=output_padding, **fields)
            if fused.geometry(in_spatial) == wanted:
                return fused
        except ConvertkitError:
            continue
    return None


LOWERINGS: dict[str, list[Lowering]] = {"onnx": [lower_as_2d]}
FUSIONS: dict[str, list[tuple[int, Fusion]]] = {"import": [(3, fuse_as_2d)]}
