"""ONNX facet of ``Deconvolution``: ``ConvTranspose`` with explicit pads, read back with every attribute."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ... import shapes
from ...codec.onnx import OnnxEmitter, OnnxNode, channel_bias, constant_pads, slice_bounds
from ...errors import ValidationError
from ...fillers import Values
from ...ir import TensorType
from .core import Deconvolution, Padding

OP_TYPES = ("ConvTranspose",)
#: Chains :func:`write` emits (see :func:`read_chain`), folded back into one layer on import.
PATTERNS: tuple[tuple[str, ...], ...] = (
    ("ConvTranspose", "Pad", "Slice", "Add"),
    ("ConvTranspose", "Pad", "Add"),
    ("ConvTranspose", "Pad", "Slice"),
    ("ConvTranspose", "Pad"),
)


def write(layer: Deconvolution, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    """Emit ``ConvTranspose`` with explicit pads (never auto_pad / output_shape).

    onnxruntime refuses ``output_padding >= stride``, and an output_padding that the end pad would crop again
    is redundant, so the end pad absorbs output_padding first (``pe' = pe - op`` when ``pe >= op``; exact:
    the appended rows are cropped again).  What is left is emitted as the attribute when it is < stride;
    otherwise the ConvTranspose runs without bias and without output_padding, a ``Pad`` appends the zero rows
    and an ``Add`` puts the bias on every row (the appended rows hold bias only, as in the definition).
    """
    x = types[0]
    geo = layer.geometry(x.shape[2:])
    n = layer.spatial_rank
    dtype = np.dtype(x.dtype)
    begin = list(geo.pads[:n])
    end = list(geo.pads[n:])
    attr_op, appended = [0] * n, [0] * n
    for a in range(n):
        absorbed = min(end[a], geo.output_padding[a])
        end[a] -= absorbed
        rest = geo.output_padding[a] - absorbed
        if rest < geo.strides[a]:
            attr_op[a] = rest
        else:
            appended[a] = rest
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
    if not any(appended):
        inputs = [layer.input, weight]
        if bias is not None:
            inputs.append(ctx.add_initializer(f"{layer.name}.bias", bias))
        ctx.add_node("ConvTranspose", inputs, [layer.output], name=layer.name, **attrs)
        return
    # On an appended axis the ConvTranspose keeps full - pb rows; when pb crops the whole scatter away
    # (only bias rows remain), keep one row and drop the surplus with a Slice after the Pad, because
    # onnxruntime refuses an empty ConvTranspose output.
    lead = [0] * n
    for a in range(n):
        if appended[a]:
            full = shapes.conv_transpose_full_size(
                x.shape[2 + a], geo.kernel_shape[a], geo.strides[a], geo.dilations[a]
            )
            lead[a] = max(0, begin[a] - (full - 1))
            begin[a] -= lead[a]
    attrs["pads"] = begin + end
    value = ctx.fresh(f"{layer.name}.unpadded")
    ctx.add_node("ConvTranspose", [layer.input, weight], [value], name=layer.name, **attrs)
    steps: list[tuple[str, Any]] = [("pad", appended)]
    if any(lead):
        steps.append(("slice", lead))
    if bias is not None:
        steps.append(("bias", bias))
    for k, (step, arg) in enumerate(steps):
        out = layer.output if k == len(steps) - 1 else ctx.fresh(f"{layer.name}.{step}")
        if step == "pad":
            amounts = np.array([0, 0] + [0] * n + [0, 0] + arg, dtype=np.int64)
            pad_init = ctx.add_initializer(f"{layer.name}.output_padding", amounts)
            ctx.add_node("Pad", [value, pad_init], [out], name=f"{layer.name}.output_padding", mode="constant")
        elif step == "slice":
            axes = [a for a in range(n) if arg[a]]
            ctx.add_slice(
                value,
                out,
                name=f"{layer.name}.crop",
                prefix=f"{layer.name}.crop_",
                starts=[arg[a] for a in axes],
                ends=[2**62] * len(axes),
                axes=[2 + a for a in axes],
            )
        else:
            b = ctx.add_initializer(f"{layer.name}.bias", arg.reshape((1, layer.out_channels) + (1,) * n))
            ctx.add_node("Add", [value, b], [out], name=f"{layer.name}.bias")
        value = out


def read(node: OnnxNode) -> Deconvolution:
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
    x = node.input_type(0)
    w = node.constant(1, "the weight W")
    b = node.optional_constant(2, "the bias B")
    n = len(x.shape) - 2
    if n < 1 or w.ndim != n + 2:
        raise node.error(
            f"input X has shape {list(x.shape)} and W {list(w.shape)}; ConvTranspose needs X (N, C, spatial...) "
            "and W (C, M / group, kernel...) of the same rank >= 3",
            ValidationError,
        )
    if w.dtype.kind != "f":
        raise node.error(f"W has element type {w.dtype}; convertkit takes float weights", ValidationError)
    kernel = tuple(int(k) for k in node.attr("kernel_shape", w.shape[2:]))
    if kernel != tuple(w.shape[2:]):
        raise node.error(
            f"kernel_shape {list(kernel)} disagrees with the weight's spatial shape {list(w.shape[2:])}; "
            "drop kernel_shape or fix W",
            ValidationError,
        )
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


def read_chain(chain: list[OnnxNode]) -> Deconvolution | None:
    """Fold what :meth:`to_onnx` writes for output_padding >= stride back into one layer, or None.

    ``chain`` is ``ConvTranspose`` (no bias) -> ``Pad`` (constant zeros at the
    end of spatial axes only) [-> ``Slice`` (start rows of spatial axes only, to the end)] [-> ``Add`` (a
    constant broadcast along the channels)].  It is one Deconvolution with ``output_padding`` + the appended
    rows, the crop added to the begin pads and the Add as bias, exactly, when the appended rows lie past the
    scatter (the ConvTranspose's end pad <= its output_padding) — zeros, then the bias, as in the definition.
    Anything else is not this pattern (None): its Pad or Add stays unsupported and is reported.
    """
    head, pad = chain[0], chain[1]
    rest = chain[2:]
    if head.has_input(2) or pad.input_names[0] != head.output_names[0]:
        return None
    base = read(head)
    x = head.input_type(0)
    n = base.spatial_rank
    geo = base.geometry(x.shape[2:])
    (conv_out,) = base.infer([x])
    amounts = constant_pads(pad, len(x.shape), "constant")
    if amounts is None:
        return None
    begin_pad, end_pad = amounts
    if any(begin_pad) or any(end_pad[:2]):
        return None
    appended = list(end_pad[2:])
    if any(p and e > op for p, e, op in zip(appended, geo.pads[n:], geo.output_padding, strict=True)):
        return None
    padded = (*conv_out.shape[:2], *(d + p for d, p in zip(conv_out.shape[2:], appended, strict=True)))
    lead, bias, value = [0] * n, None, pad.output_names[0]
    for node in rest:
        if node.op_type == "Slice":
            if node.input_names[0] != value:
                return None
            bounds = slice_bounds(node, padded)
            if any(a < 2 or hi != padded[a] for a, (_, hi) in bounds.items()):
                return None
            for a, (lo, _) in bounds.items():
                lead[a - 2] = lo
        else:
            others = [k for k, v in enumerate(node.input_names) if v != value]
            if len(node.input_names) != 2 or len(others) != 1:
                return None
            b = np.asarray(node.constant(others[0], "the bias"))
            bias = channel_bias(b, x.dtype, base.out_channels, len(x.shape))
            if bias is None:
                return None
        value = node.output_names[0]
    pads = tuple(p + lead_a for p, lead_a in zip(geo.pads[:n], lead, strict=True)) + tuple(geo.pads[n:])
    try:
        return dataclasses.replace(
            base,
            output=value,
            padding=Padding(pads=pads),
            output_padding=tuple(op + p for op, p in zip(geo.output_padding, appended, strict=True)),
            bias_term=bias is not None,
            bias=Values(array=bias) if bias is not None else None,
        )
    except ValidationError:
        return None
