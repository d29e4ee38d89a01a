"""Max-unpooling's multi-layer forms and the checks that keep its mask exact across formats, defined once.

**The mask** of a max :class:`Pooling` (``indices``) is, in the IR, Caffe's: a float per ``(n, c)`` plane, the
row-major index ``h * W + w`` into the pooled input's plane (BVLC ``pooling_layer.cpp``: ``mask[pool_index] =
h * width_ + w``, first maximum in scan order, -1 for an empty window).  ONNX MaxPool's ``Indices`` are int64 and
flat over the whole tensor, ``(n * C + c) * H * W + h * W + w`` (storage_order 0), and so is MaxUnpool's ``I``,
over its *output*.  The IR has no integer tensors to convert through, so the ONNX facets wire MaxPool's Indices
straight into MaxUnpool, and the two conventions are the same numbers exactly where every reader of the mask is a
MaxUnpool whose output plane is the pooled input's plane (or there is one plane, ``N * C == 1``) and the mask is
no model output.  :func:`check_onnx_mask` refuses every other use, on export and on import.  Ties and padding
agree: onnxruntime's MaxPool keeps the first strict maximum in scan order and ignores padding, as Caffe does
(``tests/test_reference_pooling.py`` compares both with the reference, overlapping windows included).

**Stock Caffe** has no unpooling layer.  For windows that tile the input (kernel == stride, no pads, the mask's
Pooling having those windows, so every mask index lies in its own window), with a ``(h, w)`` input, strides
``(s, t)`` and output ``(H, W)``::

    xu = Deconvolution(x)      ones kernel (kh', kw'), stride (s, t), one group per channel: x repeated s x t
    mu = Deconvolution(mask)   the same: each cell of a window sees its window's index
    one = Power(scale 0, shift 1)(Pooling global max (mask))     a (N, C, 1, 1) blob of ones
    rows = Deconvolution(Deconvolution(one) kernel (Hu, 1) = h * W) kernel (1, Wu) ones   -> h * W
    cols = Deconvolution(Deconvolution(one) kernel (1, Wu) = w) kernel (Hu, 1) ones       -> w
    hit = ReLU(Power(scale -1, shift 1)(AbsVal(Eltwise SUM(mu, rows, cols; 1, -1, -1))))  -> 1 where mu == h*W+w
    out = Crop(Eltwise PROD(xu, hit)) to (H, W)

Every step is exact in float32 (integers below 2**24, products with 0 and 1, sums with one non-zero term): each
output cell holds its window's value where the window's index names that cell, and 0 elsewhere — the scatter.
``kh' = max(s, H - (h - 1) * s)`` (zero taps past ``s``) reaches rows a floor-mode pooling never covered; the
index map is injective on the kept ``(H, W)`` cells and the crop drops the rest.  (A non-finite value times 0 is
NaN where the scatter writes 0: the stock form assumes finite data.)  Overlapping or padded windows are refused;
``--caffe-dialect segnet`` writes the fork's ``Upsample`` instead.
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedError
from ..fillers import Filler, Values
from ..ir import Layer, TensorType
from ..layers.activation import Activation
from ..layers.crop import Crop
from ..layers.deconvolution import Deconvolution, Padding
from ..layers.eltwise import Eltwise
from ..layers.max_unpool import MaxUnpool
from ..layers.pooling import Pooling
from ..layers.power import Power
from . import Check, ExportOptions, Fusion, Graph, Lowering

__all__ = ["LOWERINGS", "FUSIONS", "CHECKS", "check_onnx_mask", "stock_caffe_form"]

#: Caffe dialects whose fork layer says MaxUnpool in one layer (SegNet's / ENet's ``Upsample``).
FORK_DIALECTS = ("segnet",)


def _producers(layers: list[Layer]) -> dict[str, Layer]:
    return {v: layer for layer in layers for v in layer.outputs}


def _mask_pooling(layer: MaxUnpool, producers: dict[str, Layer]) -> Pooling | None:
    source = producers.get(layer.mask)
    if isinstance(source, Pooling) and source.indices == layer.mask:
        return source
    return None


def check_onnx_mask(layers: list[Layer], types: dict[str, TensorType], outputs: tuple[str, ...], where: str) -> None:
    """Refuse every use of a mask whose ONNX flat indices would not be the IR's per-plane ones (see the module)."""
    producers = _producers(layers)
    masks = {layer.indices: layer for layer in layers if isinstance(layer, Pooling) and layer.indices}
    for value in outputs:
        if value in masks:
            raise masks[value].error(
                f"its mask {value!r} is a model output: {where} MaxPool's Indices are int64 and flat over N*C*H*W, "
                "convertkit's mask a per-plane float (Caffe's); read the mask only into MaxUnpool, or export to "
                "Caffe",
                UnsupportedError,
            )
    for layer in layers:
        for i, value in enumerate(layer.inputs):
            if value not in masks:
                continue
            pool = masks[value]
            if not (isinstance(layer, MaxUnpool) and i == 1):
                raise layer.error(
                    f"reads {value!r}, the mask of {pool.name!r}: {where} MaxPool's Indices are int64 and flat over "
                    "N*C*H*W, not the IR's per-plane float mask, so only a MaxUnpool may read them; export to Caffe "
                    "for other uses",
                    UnsupportedError,
                )
            pooled_in = types[pool.input].shape
            out = types[layer.output].shape
            planes = pooled_in[0] * pooled_in[1]
            if planes > 1 and int(np.prod(pooled_in[2:])) != int(np.prod(out[2:])):
                raise layer.error(
                    f"unpools onto {list(out[2:])}, but its mask indexes planes of {list(pooled_in[2:])} (the input of "
                    f"{pool.name!r}): {where} MaxUnpool reads flat indices over its own output, so with {planes} "
                    "planes the values would land in other planes; give output_shape the pooled input's size",
                    UnsupportedError,
                )
    for layer in layers:
        if isinstance(layer, MaxUnpool) and _mask_pooling(layer, producers) is None:
            raise layer.error(
                f"its mask {layer.mask!r} is not a max Pooling's indices: {where} MaxUnpool needs int64 flat "
                "indices, which convertkit takes only from a MaxPool's Indices output",
                UnsupportedError,
            )


def stock_caffe_form(layer: MaxUnpool, x: TensorType, graph: Graph) -> list[Layer]:
    """The stock-Caffe layers that compute ``layer`` exactly (see the module), or the error saying why not."""
    if len(x.shape) != 4:
        raise layer.error(
            f"stock Caffe's unpooling form is 2-D (a 4-D blob), the input has shape {list(x.shape)}; export to ONNX",
            UnsupportedError,
        )
    if not layer.non_overlapping:
        raise layer.error(
            f"windows kernel {list(layer.kernel_shape)} stride {list(layer.strides)} pads {list(layer.pads)} overlap "
            "or pad: stock Caffe has no unpooling layer, and its exact form needs windows that tile the input "
            "(kernel == stride, no pads), where each mask index lies in its own window; use --caffe-dialect segnet "
            "(the fork's Upsample) or export to ONNX",
            UnsupportedError,
        )
    pool = _mask_pooling(layer, _producers(graph.layers))
    n, c, h, w = x.shape
    out_h, out_w = layer.output_spatial((h, w))
    s, t = layer.strides
    if pool is None or (
        pool.kernel_shape != layer.kernel_shape
        or pool.strides != layer.strides
        or any(pool.pads)
        or any(d != 1 for d in pool.dilations)
        or graph.types[pool.input].shape[2:] != (out_h, out_w)
    ):
        made = "a graph input or another layer" if pool is None else f"Pooling {pool.name!r} with other windows"
        raise layer.error(
            f"its mask {layer.mask!r} comes from {made}: the stock Caffe form is exact only for a mask of a max "
            f"Pooling with kernel = stride = {list(layer.kernel_shape)}, no pads, on an input of the output size "
            f"{[out_h, out_w]} (so every index lies in its own window); use --caffe-dialect segnet or export to ONNX",
            UnsupportedError,
        )
    up_h, up_w = max(h * s, out_h), max(w * t, out_w)
    if up_h * out_w + up_w >= 2**24:
        raise layer.error(
            f"output {[out_h, out_w]}: the stock form compares plane indices up to {up_h * out_w + up_w} in float32, "
            "past 2**24 where float32 stops holding every whole number; use --caffe-dialect segnet",
            UnsupportedError,
        )
    fresh = graph.names.fresh
    dtype = np.dtype(x.dtype)

    def grouped(name: str, source: str, kernel: tuple[int, int], stride: tuple[int, int], weight: object) -> Layer:
        return Deconvolution(
            name=name,
            input=source,
            output=name,
            out_channels=c,
            group=c,
            kernel_shape=kernel,
            strides=stride,
            padding=Padding(convention="caffe", pad=(0, 0)),
            bias_term=False,
            weight=weight,  # type: ignore[arg-type]
            frozen=True,
        )

    kernel = (up_h - (h - 1) * s, up_w - (w - 1) * t)
    ones = np.zeros((c, 1, *kernel), dtype=dtype)
    ones[:, :, :s, :t] = 1
    base = layer.name
    xu = grouped(fresh(f"{base}.data_up"), layer.input, kernel, (s, t), Values(array=ones))
    mu = grouped(fresh(f"{base}.mask_up"), layer.mask, kernel, (s, t), Values(array=ones.copy()))
    peak = Pooling(name=fresh(f"{base}.peak"), input=layer.mask, output="", method="max", global_pooling=True)
    one = Power(name=fresh(f"{base}.one"), input=peak.output, scale=0.0, shift=1.0)
    row_index = np.broadcast_to((np.arange(up_h, dtype=dtype) * out_w).reshape(1, 1, up_h, 1), (c, 1, up_h, 1))
    col_index = np.broadcast_to(np.arange(up_w, dtype=dtype).reshape(1, 1, 1, up_w), (c, 1, 1, up_w))
    rows_1 = grouped(fresh(f"{base}.rows"), one.output, (up_h, 1), (1, 1), Values(array=row_index.copy()))
    rows = grouped(fresh(f"{base}.row_map"), rows_1.outputs[0], (1, up_w), (1, 1), Filler(type="constant", value=1.0))
    cols_1 = grouped(fresh(f"{base}.cols"), one.output, (1, up_w), (1, 1), Values(array=col_index.copy()))
    cols = grouped(fresh(f"{base}.col_map"), cols_1.outputs[0], (up_h, 1), (1, 1), Filler(type="constant", value=1.0))
    diff = Eltwise(
        name=fresh(f"{base}.diff"),
        input_names=(mu.outputs[0], rows.outputs[0], cols.outputs[0]),
        operation="sum",
        coeff=(1.0, -1.0, -1.0),
    )
    dist = Activation(name=fresh(f"{base}.dist"), input=diff.output, function="abs")
    near = Power(name=fresh(f"{base}.near"), input=dist.output, scale=-1.0, shift=1.0)
    hit = Activation(name=fresh(f"{base}.hit"), input=near.output, function="relu")
    cropped = (up_h, up_w) != (out_h, out_w)
    placed = Eltwise(
        name=fresh(f"{base}.placed") if cropped else base,
        input_names=(xu.outputs[0], hit.output),
        output="" if cropped else layer.output,
        operation="prod",
    )
    found: list[Layer] = [xu, mu, peak, one, rows_1, rows, cols_1, cols, diff, dist, near, hit, placed]
    if cropped:
        found.append(
            Crop(name=base, input=placed.output, output=layer.output, axis=2, shape=(out_h, out_w), offset=(0, 0))
        )
    return found


def lower_for_caffe(layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions) -> list[Layer] | None:
    """MaxUnpool: kept for the fork's ``Upsample`` (``--caffe-dialect segnet``), else the stock form or an error."""
    if not isinstance(layer, MaxUnpool) or options.dialect in FORK_DIALECTS:
        return None
    return stock_caffe_form(layer, types[0], graph)


def _export_check(layers: list[Layer], types: dict[str, TensorType], outputs: tuple[str, ...]) -> None:
    check_onnx_mask(layers, types, outputs, "ONNX")


def _import_check(layers: list[Layer], types: dict[str, TensorType], outputs: tuple[str, ...]) -> None:
    check_onnx_mask(layers, types, outputs, "the ONNX model's")


LOWERINGS: dict[str, list[Lowering]] = {"caffe": [lower_for_caffe]}
FUSIONS: dict[str, list[tuple[int, Fusion]]] = {}
#: Whole-model checks: ``onnx-export`` before lowering for ONNX, ``import`` after an ONNX reader's fusions.
CHECKS: dict[str, list[Check]] = {"onnx-export": [_export_check], "import": [_import_check]}
