"""ONNX facet of ``Pooling``: MaxPool / AveragePool with explicit pads, GlobalMaxPool / GlobalAveragePool.

Written: one node, never ``auto_pad``.  A ``caffe``-convention layer goes through
:func:`convertkit.reference.pooling.caffe_pooling_as_onnx`, which refuses the one Caffe form ONNX cannot say (an
empty last window) and otherwise gives a node that is exact alone: with ``ceil_mode`` (every opset convertkit
writes, >= 13, has it) Caffe's divisor is ``count_include_pad=1``'s, so the constant divisor correction that
function can return for opsets < 10 is never needed (``tests/test_pooling.py`` checks it on a sweep).
Read: all four ops with every attribute; ``auto_pad`` resolved to explicit pads; MaxPool's ``Indices`` output is
read as the ``indices`` mask (storage_order 0; the conversion between ONNX's flat indices and the IR's per-plane
mask is checked by :mod:`convertkit.passes.unpool`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ... import shapes
from ...codec.onnx import OnnxEmitter, OnnxNode
from ...errors import UnsupportedError, ValidationError
from ...ir import TensorType
from ...reference.pooling import CaffePooling, OnnxPooling, caffe_pooling_as_onnx
from ...registry import OnnxFacet
from .core import Pooling

OP_TYPES = ("MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool")

#: AveragePool takes ``dilations`` from this opset on.
AVERAGE_POOL_DILATIONS_OPSET = 19


def onnx_form(layer: Pooling, x: TensorType) -> OnnxPooling:
    """The one ONNX node computing ``layer`` on input ``x`` exactly (raises where there is none)."""
    if layer.global_pooling:
        return OnnxPooling(op_type="GlobalMaxPool" if layer.method == "max" else "GlobalAveragePool")
    assert layer.kernel_shape is not None
    op_type = "MaxPool" if layer.method == "max" else "AveragePool"
    if layer.convention == "caffe":
        caffe = CaffePooling(
            pool="MAX" if layer.method == "max" else "AVE", kernel_shape=layer.kernel_shape, strides=layer.strides
        )
        try:
            form = caffe_pooling_as_onnx(x.shape[2:], caffe)
        except UnsupportedError as exc:
            message = str(exc).removeprefix("Caffe Pooling: ")
            raise layer.error(f"has no ONNX form: {message}", UnsupportedError) from exc
        if not form.exact:  # ceil_mode is always allowed here, and with it Caffe's divisor is ONNX's
            raise layer.error(f"no exact single ONNX node on input {list(x.shape)}", UnsupportedError)
        # Without pads count_include_pad counts nothing more: written as the IR reads it back (0).
        return dataclasses.replace(form, count_include_pad=form.count_include_pad if any(form.pads) else 0)
    return OnnxPooling(
        op_type=op_type,
        kernel_shape=layer.kernel_shape,
        strides=layer.strides,
        pads=layer.pads,
        dilations=layer.dilations,
        ceil_mode=_ceil_mode_attribute(layer, x),
        count_include_pad=int(layer.count_include_pad),
    )


def _ceil_mode_attribute(layer: Pooling, x: TensorType) -> int:
    """``ceil_mode`` as written: 0 where ceil's last window is dropped and floor gives the same windows.

    onnx's shape inference sizes ``ceil_mode=1`` without the rule that drops a last window starting in the end
    padding (onnxruntime and the ONNX text apply it), so such a node fails the checker; floor then gives exactly
    onnxruntime's windows (rounding down never reaches the end padding, since pads are smaller than the kernel).
    """
    if not layer.ceil_mode:
        return 0
    assert layer.kernel_shape is not None
    n, spatial = len(layer.kernel_shape), x.shape[2:]
    sizes = layer.output_spatial(spatial)
    floor = dataclasses.replace(layer, ceil_mode=False).output_spatial(spatial)
    spans = [
        spatial[a] + layer.pads[a] + layer.pads[n + a] - shapes.effective_kernel(k, layer.dilations[a])
        for a, k in enumerate(layer.kernel_shape)
    ]
    raw = [-(-span // s) + 1 for span, s in zip(spans, layer.strides, strict=True)]
    if list(sizes) == raw:
        return 1
    if floor == sizes:
        return 0
    raise layer.error(
        f"ceil_mode drops a last window on input {list(spatial)} (output {list(sizes)}, onnx shape inference "
        f"says {raw}) and floor gives {list(floor)}: no ONNX node both onnxruntime and onnx's checker size alike; "
        "change the pads or strides so the last window starts inside the input",
        UnsupportedError,
    )


def write(layer: Pooling, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    form = onnx_form(layer, types[0])
    if form.op_type == "AveragePool" and any(d != 1 for d in form.dilations) and ctx.opset < 19:
        raise layer.error(
            f"AveragePool takes dilations {list(form.dilations)} from opset {AVERAGE_POOL_DILATIONS_OPSET} on, "
            f"not at opset {ctx.opset}; export at opset {AVERAGE_POOL_DILATIONS_OPSET} or later",
            UnsupportedError,
        )
    if layer.indices:
        # MaxPool's Indices (int64, flat over N * C * H * W, storage_order 0): the IR's per-plane mask wherever a
        # MaxUnpool reads it back onto the same plane, which convertkit.passes.unpool checks before export.
        import onnx

        ctx.element_types[layer.indices] = onnx.TensorProto.INT64
    ctx.add_node(form.op_type, [layer.input], list(layer.outputs), name=layer.name, **form.attributes())


def _same_pads(
    node: OnnxNode,
    spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
    auto_pad: str,
) -> list[int]:
    """Explicit ``(begin..., end...)`` of ``auto_pad`` SAME_UPPER / SAME_LOWER: ``out = ceil(in / stride)``, the
    total pad ``(out - 1) * stride + k_eff - in`` split evenly, the odd cell at the end (UPPER) or beginning."""
    n = len(spatial)
    begin, end = [0] * n, [0] * n
    for a in range(n):
        out = -(-spatial[a] // strides[a])
        total = (out - 1) * strides[a] + shapes.effective_kernel(kernel[a], dilations[a]) - spatial[a]
        if total < 0:
            raise node.error(
                f"auto_pad {auto_pad} on axis {a}: input {spatial[a]}, kernel {kernel[a]}, stride {strides[a]} "
                f"would need a negative total pad {total} to give ceil(in / stride) = {out} outputs; write explicit "
                "pads instead"
            )
        small = total // 2
        begin[a], end[a] = (small, total - small) if auto_pad == "SAME_UPPER" else (total - small, small)
    return begin + end


def read(node: OnnxNode) -> Pooling:
    """Build from an ONNX pooling node (every attribute; refused: MaxPool's Indices, an unknown auto_pad)."""
    x = node.input_type(0)
    n = len(x.shape) - 2
    if n < 1:
        raise node.error(f"input X has shape {list(x.shape)}; pooling needs (N, C, spatial...)", ValidationError)
    method = "max" if "Max" in node.op_type else "average"
    common: dict[str, Any] = {
        "name": node.name,
        "input": node.value(0),
        "output": node.output_names[0],
        "method": method,
    }
    if len(node.output_names) > 1 and node.output_names[1]:
        if int(node.attr("storage_order", 0)) != 0:
            raise node.error(
                f"asks for column-major Indices (storage_order {node.attr('storage_order')}); convertkit's mask is "
                "row-major (Caffe's, and what MaxUnpool reads): export with storage_order 0"
            )
        common["indices"] = node.output_names[1]
    if node.op_type.startswith("Global"):
        return Pooling(**common, global_pooling=True)
    kernel = node.attr("kernel_shape")
    if kernel is None:
        raise node.error("has no kernel_shape (required)", ValidationError)
    kernel = tuple(int(k) for k in kernel)
    strides = tuple(int(s) for s in node.attr("strides", [1] * n))
    dilations = tuple(int(d) for d in node.attr("dilations", [1] * n))
    for fname, value in (("kernel_shape", kernel), ("strides", strides), ("dilations", dilations)):
        if len(value) != n:
            raise node.error(f"{fname} needs {n} values (one per spatial axis), got {list(value)}", ValidationError)
    auto_pad = node.attr("auto_pad", "NOTSET")
    pads = node.attr("pads")
    if auto_pad == "NOTSET":
        resolved = tuple(int(p) for p in pads) if pads is not None else (0,) * (2 * n)
    elif auto_pad == "VALID":
        resolved = (0,) * (2 * n)
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        resolved = tuple(_same_pads(node, x.shape[2:], kernel, strides, dilations, auto_pad))
    else:
        raise node.error(f"auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got {auto_pad!r}", ValidationError)
    if auto_pad != "NOTSET" and pads is not None and any(pads):
        node.warn(f"pads {list(pads)} are ignored because auto_pad is {auto_pad} (ONNX text, onnxruntime)")
    ceil_mode = int(node.attr("ceil_mode", 0))
    if ceil_mode not in (0, 1):
        raise node.error(f"ceil_mode must be 0 or 1, got {ceil_mode}", ValidationError)
    count_include_pad = int(node.attr("count_include_pad", 0)) if method == "average" else 0
    if count_include_pad not in (0, 1):
        raise node.error(f"count_include_pad must be 0 or 1, got {count_include_pad}", ValidationError)
    storage_order = int(node.attr("storage_order", 0))
    if storage_order not in (0, 1):
        raise node.error(f"storage_order must be 0 or 1, got {storage_order}", ValidationError)
    # storage_order orders the Indices only, which are refused above: it does not change the values read.
    return Pooling(
        **common,
        kernel_shape=kernel,
        strides=strides,
        pads=resolved,
        dilations=dilations,
        ceil_mode=bool(ceil_mode),
        count_include_pad=bool(count_include_pad),
    )


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Pooling] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
