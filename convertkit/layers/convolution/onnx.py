"""ONNX facet of ``Convolution``: ``Conv`` with explicit pads, read back with every attribute."""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode, kernel_inputs
from ...errors import ValidationError
from ...fillers import Values
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import AUTO_PADS, Convolution, onnx_auto_pad_conv_pads

OP_TYPES = ("Conv",)


def write(layer: Convolution, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    """Emit one ``Conv`` with explicit pads (never auto_pad: readers disagree on it)."""
    x = types[0]
    dtype = np.dtype(x.dtype)
    assert layer.strides is not None and layer.dilations is not None and layer.pads is not None
    inputs = [layer.input, ctx.add_initializer(f"{layer.name}.weight", layer.weight_array(x.shape[1], dtype))]
    bias = layer.bias_array(dtype)
    if bias is not None:
        inputs.append(ctx.add_initializer(f"{layer.name}.bias", bias))
    ctx.add_node(
        "Conv",
        inputs,
        [layer.output],
        name=layer.name,
        kernel_shape=list(layer.kernel_shape),
        strides=list(layer.strides),
        dilations=list(layer.dilations),
        pads=list(layer.pads),
        group=layer.group,
    )


def read(node: OnnxNode) -> Convolution:
    """Build from an ONNX ``Conv`` node: weights and bias from constants, ``auto_pad`` resolved to explicit pads.

    ``auto_pad`` SAME_UPPER / SAME_LOWER / VALID become the pads onnxruntime uses on the node's input size
    (:func:`onnx_auto_pad_conv_pads`); ``pads`` given together with an ``auto_pad`` are ignored, as the ONNX text
    and onnxruntime say (warned); SAME with dilations, which onnxruntime refuses to run, follows the ONNX rule on the
    dilated kernel (warned).  Refused: a run-time W or B, non-float weights, a ``kernel_shape`` that
    disagrees with W, and whatever the layer rules refuse.
    """
    x, w, b, kernel = kernel_inputs(node, "(M, C / group, kernel...)")
    n = len(kernel)
    strides = tuple(int(s) for s in node.attr("strides", [1] * n))
    dilations = tuple(int(d) for d in node.attr("dilations", [1] * n))
    group = int(node.attr("group", 1))
    auto_pad = node.attr("auto_pad", "NOTSET")
    pads = node.attr("pads")
    for fname, value in (("strides", strides), ("dilations", dilations)):
        if len(value) != n:
            raise node.error(f"{fname} needs {n} values (one per spatial axis), got {list(value)}", ValidationError)
        if any(v < 1 for v in value):
            raise node.error(f"{fname} must be >= 1, got {list(value)}", ValidationError)
    if auto_pad == "NOTSET":
        resolved = tuple(int(p) for p in pads) if pads is not None else (0,) * (2 * n)
    elif auto_pad in AUTO_PADS:
        if pads is not None and any(pads):
            node.warn(f"pads {list(pads)} are ignored because auto_pad is {auto_pad} (ONNX text, onnxruntime)")
        if auto_pad != "VALID" and any(d > 1 for d in dilations):
            node.warn(
                f"auto_pad {auto_pad} with dilations {list(dilations)}: onnxruntime refuses to run this node; "
                "convertkit pads by the ONNX rule on the dilated kernel, (ceil(i/s) - 1) * s + d * (k - 1) + 1 - i, "
                "as onnx.reference does, and writes the pads out"
            )
        per_axis = [
            onnx_auto_pad_conv_pads(x.shape[2 + a], kernel[a], strides[a], dilations[a], auto_pad) for a in range(n)
        ]
        resolved = tuple(p[0] for p in per_axis) + tuple(p[1] for p in per_axis)
    else:
        raise node.error(f"auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got {auto_pad!r}", ValidationError)
    if b is not None and b.shape != (w.shape[0],):
        raise node.error(f"B has shape {list(b.shape)}; Conv needs (M,) = ({w.shape[0]},)", ValidationError)
    return Convolution(
        name=node.name,
        input=node.value(0),
        output=node.output_names[0],
        out_channels=int(w.shape[0]),
        kernel_shape=kernel,
        strides=strides,
        dilations=dilations,
        pads=resolved,
        group=group,
        bias_term=b is not None,
        weight=Values(array=w),
        bias=Values(array=b) if b is not None else None,
    )


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Convolution] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
