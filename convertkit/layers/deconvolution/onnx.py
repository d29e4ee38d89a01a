"""ONNX facet of ``Deconvolution``: ``ConvTranspose`` with explicit pads, read back with every attribute."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ... import shapes
from ...codec.onnx import OnnxEmitter, OnnxNode, kernel_inputs
from ...errors import ValidationError
from ...fillers import Values
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Deconvolution, Padding
from .forms import AS_2D, AS_2D_PREFIX, WRITTEN_FOR, fold_written_for

OP_TYPES = ("ConvTranspose",)


def write(layer: Deconvolution, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    """Emit one ``ConvTranspose`` with explicit pads (never auto_pad / output_shape).

    Symmetric pads with output_padding below the stride where that is exact; otherwise the end pad absorbs
    output_padding first (the appended rows are cropped again: exact); what is left must be
    below the stride, which onnxruntime requires — an output_padding past it is lowered before export to
    ``Deconvolution -> Pad -> [Crop] -> [Bias]`` (:mod:`convertkit.passes.deconvolution`).
    """
    x = types[0]
    geo = layer.geometry(x.shape[2:])
    n = layer.spatial_rank
    dtype = np.dtype(x.dtype)
    begin = list(geo.pads[:n])
    end = list(geo.pads[n:])
    attr_op = [0] * n
    for a in range(n):
        # Symmetric pads + output_padding where that is exact (the form PyTorch writes, and the only one OpenCV
        # and onnx2torch run); else the end pad absorbs output_padding (asymmetric pads).
        kept = begin[a] - (end[a] - geo.output_padding[a])
        if 0 <= kept < geo.strides[a]:
            end[a], attr_op[a] = begin[a], kept
            continue
        absorbed = min(end[a], geo.output_padding[a])
        end[a] -= absorbed
        attr_op[a] = geo.output_padding[a] - absorbed
        if attr_op[a] >= geo.strides[a]:
            raise layer.error(
                f"output_padding {attr_op[a]} on axis {a} reaches the stride {geo.strides[a]}, which onnxruntime "
                "refuses; export through convertkit.to_onnx, which lowers it to Pad rows first",
                ValidationError,
            )
    weight = ctx.add_initializer(f"{layer.name}.weight", layer.weight_array(x.shape[1], dtype))
    bias = layer.bias_array(dtype)
    attrs: dict[str, Any] = {
        "kernel_shape": list(geo.kernel_shape),
        "strides": list(geo.strides),
        "dilations": list(geo.dilations),
        "pads": begin + end,
        "group": layer.group,
    }
    if any(attr_op):
        attrs["output_padding"] = attr_op
    inputs = [layer.input, weight]
    if bias is not None:
        inputs.append(ctx.add_initializer(f"{layer.name}.bias", bias))
    # A portable form: the layer it stands for, which the reader folds back to; the 2-D form of a 1-D / 3-D layer
    # (convertkit.passes.as_2d): its record, one line each.
    records = [r for r in (layer.meta.get(WRITTEN_FOR), layer.meta.get(AS_2D)) if r is not None]
    if records:
        attrs["doc_string"] = "\n".join(records)
    ctx.add_node("ConvTranspose", inputs, [layer.output], name=layer.name, **attrs)


def read(node: OnnxNode) -> Deconvolution:
    """Build from an ONNX ``ConvTranspose`` node; a portable form convertkit wrote (a dense or zero-extended
    kernel, its ``doc_string`` naming the layer it stands for) reads back as that layer where its zero taps
    verify (:func:`convertkit.layers.deconvolution.forms.fold_written_for`)."""
    layer = _read(node)
    for line in node.doc_string.splitlines():
        if line.startswith(AS_2D_PREFIX):  # folded back with its Reshapes by convertkit.passes.as_2d
            layer = dataclasses.replace(layer, meta=layer.meta.with_(AS_2D, line))
            continue
        folded = fold_written_for(layer, line, node.input_type(0).shape[2:])
        if folded is not None:
            layer = folded
    return layer


def _read(node: OnnxNode) -> Deconvolution:
    """Build from an ONNX ``ConvTranspose`` node.

    The padding keeps the form the node uses: ``pads`` -> ``explicit``, ``auto_pad`` -> ``onnx_auto_pad``,
    ``output_shape`` -> ``onnx_output_shape``; :meth:`geometry` resolves them as onnxruntime does.  Warned
    (exact, but ONNX readers disagree): ``auto_pad`` SAME with ``output_padding`` (onnx shape inference adds
    output_padding to ``i * s``, onnxruntime does not), SAME where the effective kernel is shorter than the
    stride (shape inference says ``i * s``, onnxruntime the unpadded size), an odd total padding from
    ``output_shape`` (the extra pad goes to the beginning unless SAME_UPPER, per the ONNX text and onnxruntime;
    TensorFlow-style exporters mean the end), and ``pads`` given together with ``output_shape`` or SAME
    (ignored).  Refused: an ``output_shape`` with N and C, larger than the scatter by ``stride`` or more
    (onnxruntime rejects it), a ``kernel_shape`` that disagrees with W, and whatever the layer rules refuse.
    """
    x, w, b, kernel = kernel_inputs(node, "(C, M / group, kernel...)")
    n = len(kernel)
    strides = tuple(node.attr("strides", [1] * n))
    dilations = tuple(node.attr("dilations", [1] * n))
    output_padding = tuple(node.attr("output_padding", [0] * n))
    group = int(node.attr("group", 1))
    auto_pad = node.attr("auto_pad", "NOTSET")
    pads = node.attr("pads")
    output_shape = node.attr("output_shape")
    if auto_pad not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
        raise node.error(f"auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got {auto_pad!r}", ValidationError)
    for fname, value in (("strides", strides), ("dilations", dilations), ("output_padding", output_padding)):
        if len(value) != n:
            raise node.error(f"{fname} needs {n} values (one per spatial axis), got {list(value)}", ValidationError)
    k_eff = [shapes.effective_kernel(k, d) for k, d in zip(kernel, dilations, strict=True)]
    spatial = x.shape[2:]
    if output_shape is not None:
        output_shape = tuple(int(v) for v in output_shape)
        if len(output_shape) != n:
            raise node.error(
                f"output_shape {list(output_shape)} must list the {n} spatial sizes only (onnx and onnxruntime "
                f"both reject N and C in it); write output_shape={list(output_shape[-n:])}",
                ValidationError,
            )
        if auto_pad == "VALID":
            raise node.error(
                "auto_pad VALID (no padding) contradicts output_shape (padding chosen to reach it); drop one",
                ValidationError,
            )
        if pads is not None and any(pads):
            node.warn(f"pads {list(pads)} are ignored because output_shape is given (ONNX text, onnxruntime)")
        for a in range(n):
            scatter = strides[a] * (spatial[a] - 1) + k_eff[a]
            total = scatter + output_padding[a] - output_shape[a]
            if output_shape[a] - scatter >= strides[a]:
                # onnxruntime checks that the forward convolution maps output_shape back to the input size,
                # which holds while output_shape < scatter + stride (measured, output_padding not counted).
                raise node.error(
                    f"output_shape {output_shape[a]} on axis {a} exceeds the scatter extent {scatter} by "
                    f"{output_shape[a] - scatter} >= stride {strides[a]}: onnxruntime rejects this node (the "
                    "forward convolution of that size does not give the input size) and the ONNX text gives "
                    "negative pads no meaning; use output_padding or a Pad node",
                    ValidationError,
                )
            if total > 0 and total % 2:
                where = "end" if auto_pad == "SAME_UPPER" else "beginning"
                node.warn(
                    f"output_shape {list(output_shape)} leaves an odd total padding {total} on axis {a}; the "
                    f"extra pad goes to the {where} (auto_pad {auto_pad}), as the ONNX text and onnxruntime "
                    "say — TensorFlow-style exporters mean the end; check the exported pads"
                )
        padding = Padding(
            convention="onnx_output_shape",
            output_shape=output_shape,
            auto_pad=None if auto_pad == "NOTSET" else auto_pad,
        )
    elif auto_pad != "NOTSET":
        if pads is not None and any(pads):
            node.warn(f"pads {list(pads)} are ignored because auto_pad is {auto_pad} (ONNX text, onnxruntime)")
        if auto_pad != "VALID":
            if any(output_padding):
                node.warn(
                    f"auto_pad {auto_pad} with output_padding {list(output_padding)}: onnxruntime gives "
                    f"{[i * s for i, s in zip(spatial, strides, strict=True)]} (input * stride, output_padding "
                    "absorbed into the pads), onnx shape inference adds output_padding; convertkit follows "
                    "onnxruntime"
                )
            for a in range(n):
                if strides[a] * (spatial[a] - 1) + output_padding[a] + k_eff[a] < spatial[a] * strides[a]:
                    node.warn(
                        f"auto_pad {auto_pad} on axis {a}: the effective kernel {k_eff[a]} is shorter than the "
                        f"stride {strides[a]}, so input * stride would need negative pads; onnxruntime (and "
                        "convertkit) return the unpadded size, onnx shape inference says input * stride"
                    )
        padding = Padding(convention="onnx_auto_pad", auto_pad=auto_pad)
    elif pads is not None and _tensorflow_split(node, [int(p) for p in pads], n):
        pads, output_padding = _tensorflow_negative_pads(node, [int(p) for p in pads], strides, output_padding)
        padding = Padding(pads=pads)
    else:
        padding = Padding(pads=tuple(int(p) for p in pads) if pads is not None else None)
    return Deconvolution(
        name=node.name,
        input=node.value(0),
        output=node.output_names[0],
        out_channels=int(w.shape[1]) * group,
        kernel_shape=kernel,
        strides=strides,
        dilations=dilations,
        padding=padding,
        output_padding=output_padding,
        group=group,
        bias_term=b is not None,
        weight=Values(array=w),
        bias=Values(array=b) if b is not None else None,
    )


def _tensorflow_split(node: OnnxNode, pads: list[int], n: int) -> bool:
    """Whether ``pads`` has a negative pad and every axis is tf2onnx's split of a total ``t <= 0``: ``pb =
    -(|t| // 2)``, ``pe = t - pb`` (the end gets the odd row).  Any other negative pad is refused as ONNX says."""
    if len(pads) != 2 * n or not any(p < 0 for p in pads):
        return False
    return all(
        (pads[a] >= 0 and pads[n + a] >= 0) or (pads[a] <= 0 and pads[n + a] in (pads[a], pads[a] - 1))
        for a in range(n)
    )


def _tensorflow_negative_pads(
    node: OnnxNode, pads: list[int], strides: tuple[int, ...], output_padding: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Negative ``pads`` read with TensorFlow's meaning: on each such axis pads 0 and ``output_padding = -(pb + pe)``.

    tf2onnx (onnx/tensorflow-onnx tf2onnx/onnx_opset/nn.py, ConvTranspose with an ``output_shape``) writes the
    total pad ``scatter - output_shape`` split in halves, negative when TF's VALID output is larger than the
    scatter (Keras ``output_padding``; ``conv2d_transpose`` with a larger ``output_shape``).  TensorFlow puts
    those rows after the scatter (they hold only the bias); the ONNX text gives negative pads no meaning and
    onnxruntime refuses them.  Exact for what TensorFlow computes; refused where the two halves do not both
    come from one negative total in tf2onnx's split (:func:`_tensorflow_split`; others are refused as before).
    """
    n = len(strides)
    ops = list(output_padding)
    out = list(pads)
    for a in range(n):
        pb, pe = pads[a], pads[n + a]
        if pb >= 0 and pe >= 0:
            continue  # a cropping axis beside a negative one: as written
        out[a] = out[n + a] = 0
        ops[a] += -(pb + pe)
        if ops[a] >= strides[a]:
            raise node.error(
                f"pads {pads} on axis {a} ask for {ops[a]} rows after the scatter, not below the stride {strides[a]}: "
                "TensorFlow's forward convolution of that size does not give the input size",
                ValidationError,
            )
    node.warn(
        f"negative pads {pads} read with TensorFlow's meaning (tf2onnx's form): output_padding {ops} rows after the "
        f"scatter, pads {out}; the ONNX text gives negative pads no meaning and onnxruntime refuses them — convertkit "
        "writes output_padding, which onnxruntime runs"
    )
    return tuple(out), tuple(ops)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Deconvolution] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
