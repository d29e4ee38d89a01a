"""``convertkit explain``: one deconvolution or upsample, spelled out.

For one layer (from a model, or built from flags by :func:`deconvolution_model`) :func:`explain` collects

- the output size per axis under each convention (Caffe, ONNX pads / VALID / SAME_UPPER / SAME_LOWER, TensorFlow
  SAME / VALID, PyTorch), each with its formula and the numbers substituted, computed by :mod:`convertkit.shapes`;
- for small 1-D and 2-D layers the symbolic output (:func:`symbolic_matrix`): input cells ``a, b, c...`` and
  kernel taps ``w1..wK`` (both row-major), every output cell the sum of its products, the rows and columns the pads
  crop marked, and the overlap count per cell;
- the Caffe layers and ONNX nodes convertkit's own exporters write for the layer (or their refusal);
- for upsampling (an ``Upsample``, or a deconvolution with the bilinear filler) the filler's kernel and where
  Caffe's recipe, Resize half_pixel and align_corners differ on a ramp, computed with :mod:`convertkit.reference`.

The result is one JSON-able dict (:attr:`Explanation.data`); :meth:`Explanation.format` renders the same content as
text, and :mod:`convertkit.explain_plot` draws the scatter.
"""

from __future__ import annotations

import math
import string
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import (
    CaffeWarning,
    Deconvolution,
    Filler,
    Input,
    Model,
    Padding,
    Upsample,
    bilinear_kernel,
    shapes,
    to_caffe,
    to_onnx,
)
from .errors import ConvertkitError, UnsupportedError, ValidationError
from .reference import conv_transpose, resize

__all__ = [
    "MAX_INPUT_CELLS",
    "MAX_MATRIX_SIDE",
    "Explanation",
    "axis_contributions",
    "deconvolution_model",
    "explain",
    "parse_axis_values",
    "size_table",
    "symbolic_matrix",
]

#: The symbolic matrix names input cells a..z, so it covers at most 26 of them ...
MAX_INPUT_CELLS = 26
#: ... and at most this many scatter rows (columns) per axis, to stay readable.
MAX_MATRIX_SIDE = 16
#: Values printed inline (kernel taps, initializers) before the text elides the middle.
_INLINE_VALUES = 12


# ----------------------------------------------------------------------------------------------------------------
# Building the layer from flags
# ----------------------------------------------------------------------------------------------------------------


def parse_axis_values(text: str, flag: str, n: int | None = None, *, minimum: int = 0) -> tuple[int, ...]:
    """``"3"``, ``"3x2"`` or ``"3,2"`` -> ``(3,)``, ``(3, 2)``; one value is repeated for ``n`` axes.

    Raises :class:`ValidationError` naming ``flag`` for anything else (non-integers, values below ``minimum``, a
    count that is neither 1 nor ``n``).
    """
    parts = [p.strip() for p in str(text).replace(",", "x").split("x")]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if not values or any(v < minimum for v in values):
        raise ValidationError(
            f"{flag} takes integers >= {minimum} separated by x (one per spatial axis, or one for all), got {text!r}"
        )
    if n is not None and len(values) != n:
        if len(values) != 1:
            raise ValidationError(f"{flag} {text!r} gives {len(values)} values, but the input has {n} spatial axes")
        values = values * n
    return values


def _parse_pads(text: str, n: int) -> tuple[int, ...]:
    """``--pad``: ``P`` or ``PHxPW`` (symmetric per axis) or ``b0,b1,e0,e1`` (ONNX begin..., end...)."""
    if "," in str(text):
        values = parse_axis_values(text, "--pad")
        if len(values) != 2 * n:
            raise ValidationError(
                f"--pad with commas gives ONNX pads (begin..., end...), {2 * n} values for {n} spatial axes, "
                f"got {len(values)} in {text!r}; for symmetric pads write P or {'x'.join(['P'] * n)}"
            )
        return values
    sym = parse_axis_values(text, "--pad", n)
    return sym + sym


def deconvolution_model(
    input: str | tuple[int, ...],
    kernel: str | tuple[int, ...],
    *,
    stride: str | tuple[int, ...] | None = None,
    pad: str | tuple[int, ...] | None = None,
    dilation: str | tuple[int, ...] | None = None,
    output_padding: str | tuple[int, ...] | None = None,
    group: int = 1,
    channels: int | None = None,
    out_channels: int | None = None,
) -> Model:
    """A one-deconvolution model ``data -> deconv`` for ``explain`` from flags.

    Sizes are spatial only (``"2x2"``, or tuples); ``pad`` is symmetric per axis (``"1"``, ``"1x0"``) or ONNX
    pads with commas (``"0,1,1,0"``, or a tuple of ``2n``).  The weights are a ones kernel (the seed's example),
    no bias; ``channels`` and ``out_channels`` default to ``group``.
    """
    spatial = input if isinstance(input, tuple) else parse_axis_values(input, "--input", minimum=1)
    n = len(spatial)

    def per_axis(value: str | tuple[int, ...] | None, flag: str, default: int, minimum: int) -> tuple[int, ...]:
        if value is None:
            return (default,) * n
        if isinstance(value, tuple):
            return value
        return parse_axis_values(value, flag, n, minimum=minimum)

    if pad is None:
        pads: tuple[int, ...] = (0,) * (2 * n)
    else:
        pads = pad if isinstance(pad, tuple) else _parse_pads(pad, n)
    if isinstance(group, bool) or not isinstance(group, int) or group < 1:
        raise ValidationError(f"--group takes a positive integer, got {group!r}")
    c = group if channels is None else channels
    m = group if out_channels is None else out_channels
    for flag, value in (("--channels", c), ("--out-channels", m)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(f"{flag} takes a positive integer, got {value!r}")
    if c % group:
        raise ValidationError(f"--group {group} must divide --channels {c} (the input channels)")
    layer = Deconvolution(
        name="deconv",
        input="data",
        out_channels=m,
        group=group,
        kernel_shape=per_axis(kernel, "--kernel", 1, 1),
        strides=per_axis(stride, "--stride", 1, 1),
        dilations=per_axis(dilation, "--dilation", 1, 1),
        output_padding=per_axis(output_padding, "--output-padding", 0, 0),
        padding=Padding(pads=pads),
        bias_term=False,
        weight=Filler(type="constant", value=1.0),
    )
    return Model([Input(name="data", shape=(1, c, *spatial)), layer], name="explain")


# ----------------------------------------------------------------------------------------------------------------
# Sizes per convention
# ----------------------------------------------------------------------------------------------------------------


def _axis_names(n: int) -> list[str]:
    return {1: ["L"], 2: ["H", "W"], 3: ["D", "H", "W"]}.get(n, [f"axis{a}" for a in range(n)])


def size_table(
    in_spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
    pads: tuple[int, ...],
    output_padding: tuple[int, ...],
) -> list[dict[str, Any]]:
    """The output size per axis of one geometry read under each convention, with formula and substitution.

    Every size comes from :mod:`convertkit.shapes`; ``expression`` is the formula with the numbers put in (plain
    arithmetic that evaluates to ``size``).  ``size`` is None where the convention cannot say the layer (Caffe and
    PyTorch pad symmetrically), with the reason in ``note``.
    """
    n = len(in_spatial)
    names = _axis_names(n)
    rows: list[dict[str, Any]] = []

    def add(convention: str, label: str, formula: str, axes: list[dict[str, Any]], note: str | None = None) -> None:
        rows.append({"convention": convention, "label": label, "formula": formula, "axes": axes, "note": note})

    def axis_args(a: int) -> tuple[int, int, int, int, int, int, int, int]:
        i, k, s, d = in_spatial[a], kernel[a], strides[a], dilations[a]
        return i, k, s, d, shapes.effective_kernel(k, d), output_padding[a], pads[a], pads[n + a]

    def sized_by_pads(a: int, pad_begin: int, pad_end: int, out_pad: int, expression: str) -> dict[str, Any]:
        """Axis ``a`` under explicit pads and output_padding: ConvTranspose's size, with the pads shown."""
        i, k, s, d = in_spatial[a], kernel[a], strides[a], dilations[a]
        size = shapes.conv_transpose_output_size(i, k, s, pad_begin, pad_end, d, out_pad)
        return _axis(names[a], size, expression, pads=[pad_begin, pad_end])

    caffe, torch = [], []
    for a in range(n):
        i, k, s, d, ke, op, pb, pe = axis_args(a)
        if pb == pe:
            note = None
            if op:
                note = f"Caffe has no output_padding: this layer has {op} more; the Caffe form below adds them exactly"
            caffe.append(
                _axis(
                    names[a],
                    shapes.caffe_deconv_output_size(i, k, s, pb, d),
                    f"{s}*({i}-1) + {ke} - 2*{pb}",
                    note,
                    pads=[pb, pb],
                )
            )
            p_b, p_e, p_op = shapes.pytorch_conv_transpose_pads(pb, op)
            torch.append(sized_by_pads(a, p_b, p_e, p_op, f"({i}-1)*{s} - 2*{pb} + {d}*({k}-1) + {op} + 1"))
        else:
            caffe.append(
                _axis(
                    names[a],
                    None,
                    None,
                    f"pads ({pb}, {pe}) are asymmetric and Caffe's pad is symmetric; the Caffe form below is exact",
                )
            )
            torch.append(_axis(names[a], None, None, f"pads ({pb}, {pe}) are asymmetric; PyTorch's padding is not"))
    add("caffe", "Caffe pad", "o = s*(i-1) + k_eff - 2*pad", caffe)

    explicit = []
    for a in range(n):
        i, k, s, d, ke, op, pb, pe = axis_args(a)
        explicit.append(sized_by_pads(a, pb, pe, op, f"{s}*({i}-1) + {op} + {ke} - {pb} - {pe}"))
    add("onnx_pads", "ONNX pads", "o = s*(i-1) + op + k_eff - pb - pe", explicit)

    valid = []
    for a in range(n):
        i, k, s, d, ke, op, _, _ = axis_args(a)
        vb, ve, vop = shapes.onnx_auto_pad_pads(i, k, s, d, op, "VALID")
        valid.append(sized_by_pads(a, vb, ve, vop, f"{s}*({i}-1) + {op} + {ke}"))
    add("onnx_valid", "ONNX VALID", "o = s*(i-1) + op + k_eff", valid)

    for auto_pad, where in (("SAME_UPPER", "end"), ("SAME_LOWER", "start")):
        same = []
        for a in range(n):
            i, k, s, d, ke, op, _, _ = axis_args(a)
            sb, se, sop = shapes.onnx_auto_pad_pads(i, k, s, d, op, auto_pad)
            size = shapes.conv_transpose_output_size(i, k, s, sb, se, d, sop)
            total = f"{s}*({i}-1) + {op} + {ke} - {i}*{s}"
            note = f"pads {sb}, {se} from the total {total} = {eval_arithmetic(total)}"
            if eval_arithmetic(total) < 0:
                note = f"total {total} = {eval_arithmetic(total)} < 0 (k_eff + op < s): no pads, not i*s"
            inferred = shapes.onnx_inferred_auto_pad_size(i, k, s, d, op)
            disagrees = None
            if inferred != size:
                disagrees = (
                    f"onnx shape inference says {inferred} = min({i}*{s}, {s}*({i}-1) + {ke}) + {op}: it adds "
                    "output_padding after the pads; onnxruntime and convertkit do not"
                )
            same.append(
                _axis(
                    names[a],
                    size,
                    f"{s}*({i}-1) + {op} + {ke} - {sb} - {se}",
                    note,
                    pads=[sb, se],
                    onnx_shape_inference=inferred,
                    onnx_shape_inference_note=disagrees,
                )
            )
        add(
            f"onnx_{auto_pad.lower()}",
            f"ONNX {auto_pad}",
            f"o = s*(i-1) + op + k_eff - pb - pe, pb + pe = s*(i-1) + op + k_eff - i*s, odd pad at the {where}",
            same,
        )

    for padding, formula, expr in (
        ("SAME", "output_shape o = i*s", "{i}*{s}"),
        ("VALID", "output_shape o = i*s + max(k_eff - s, 0)", "{i}*{s} + max({ke} - {s}, 0)"),
    ):
        tf = []
        for a in range(n):
            i, k, s, d, ke, _, _, _ = axis_args(a)
            o = shapes.tf_conv_transpose_output_size(i, k, s, d, padding)
            tb, te, top = shapes.tf_conv_transpose_pads(i, k, s, d, o, padding)
            assert shapes.conv_transpose_output_size(i, k, s, tb, te, d, top) == o
            crop = f"crops {tb} at the start, {te} at the end"
            if top:
                crop += f", appends {top} zero rows (k_eff < s)"
            tf.append(_axis(names[a], o, expr.format(i=i, s=s, ke=ke), crop, pads=[tb, te], output_padding=top))
        note = "TensorFlow has no output_padding (output_shape sets the size)" if any(output_padding) else None
        add(f"tensorflow_{padding.lower()}", f"TensorFlow {padding}", formula, tf, note)

    add("pytorch", "PyTorch", "o = (i-1)*s - 2*p + d*(k-1) + op + 1 (padding p, output_padding op)", torch)
    return rows


def _axis(axis: str, size: int | None, expression: str | None, note: str | None = None, **extra: Any) -> dict[str, Any]:
    if size is not None and expression is not None and eval_arithmetic(expression) != size:
        raise AssertionError(f"{expression} != {size}")  # the displayed substitution must be the computed size
    return {"axis": axis, "size": size, "expression": expression, "note": note, **extra}


def eval_arithmetic(expression: str) -> int:
    """Evaluate an integer expression of the size table (``+ - * ( ) max``), without ``eval``."""
    import ast

    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            return left - right if isinstance(node.op, ast.Sub) else left * right
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "max":
            return max(walk(arg) for arg in node.args)
        raise ValueError(f"not a size expression: {ast.dump(node)}")

    return walk(ast.parse(expression, mode="eval"))


# ----------------------------------------------------------------------------------------------------------------
# The symbolic matrix
# ----------------------------------------------------------------------------------------------------------------


def axis_contributions(i: int, k: int, s: int, d: int) -> list[list[tuple[int, int]]]:
    """Per scatter row ``r`` (``0 <= r < s*(i-1) + k_eff``) the ``(input row, kernel tap)`` pairs landing on it.

    Input row ``x`` with tap ``t`` lands on ``x*s + t*d``, as in :mod:`convertkit.reference.conv_transpose`.
    """
    rows: list[list[tuple[int, int]]] = [[] for _ in range(shapes.conv_transpose_full_size(i, k, s, d))]
    for x in range(i):
        for t in range(k):
            rows[x * s + t * d].append((x, t))
    return rows


def _axis_rows(i: int, k: int, s: int, d: int, pb: int, pe: int, op: int) -> list[dict[str, Any]]:
    """Scatter rows plus output_padding rows, each with its status and output index."""
    full = shapes.conv_transpose_full_size(i, k, s, d)
    out = []
    for r in range(full + op):
        kept = pb <= r < full + op - pe
        status = "cropped" if not kept else ("output_padding" if r >= full else "output")
        out.append({"scatter": r, "output": r - pb if kept else None, "status": status})
    return out


def _cell_name(index: int) -> str:
    return string.ascii_lowercase[index]


def symbolic_matrix(
    in_spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
    pads: tuple[int, ...],
    output_padding: tuple[int, ...],
) -> dict[str, Any]:
    """The output of one input channel through one kernel, symbolically, in the seed's form.

    Input cells are ``a, b, c...`` and kernel taps ``w1..wK``, both row-major; every cell of the scatter (before
    the pads crop, with the output_padding rows after it) is the sum of its products, sorted by input cell, or
    ``0``.  ``rows`` / ``columns`` say which scatter rows are cropped, kept or output_padding (bias only);
    ``output`` is the kept part, the layer's output.  1-D layers are one row.  Raises :class:`UnsupportedError`
    past 2-D or the limits :data:`MAX_INPUT_CELLS` and :data:`MAX_MATRIX_SIDE`.
    """
    n = len(in_spatial)
    if n not in (1, 2):
        raise UnsupportedError(f"the symbolic matrix covers 1-D and 2-D layers; this one is {n}-D")
    cells = math.prod(in_spatial)
    full = [
        shapes.conv_transpose_full_size(i, k, s, d) + op
        for i, k, s, d, op in zip(in_spatial, kernel, strides, dilations, output_padding, strict=True)
    ]
    if cells > MAX_INPUT_CELLS or max(full) > MAX_MATRIX_SIDE:
        raise UnsupportedError(
            f"the symbolic matrix is limited to {MAX_INPUT_CELLS} input cells (a..z) and {MAX_MATRIX_SIDE} scatter "
            f"rows per axis; this layer has {cells} input cells and a {'x'.join(map(str, full))} scatter"
        )
    # Per axis (i, k, s, d, pb, pe, op); a 1-D layer is drawn as one row, a leading axis of one cell and one tap.
    axes = [
        (in_spatial[a], kernel[a], strides[a], dilations[a], pads[a], pads[n + a], output_padding[a]) for a in range(n)
    ]
    if n == 1:
        axes.insert(0, (1, 1, 1, 1, 0, 0, 0))
    contrib = [axis_contributions(i, k, s, d) + [[] for _ in range(op)] for i, k, s, d, _, _, op in axes]
    axes_rows = [_axis_rows(*axis) for axis in axes]
    width, taps = axes[1][0], axes[1][1]
    grid, overlaps = [], []
    for row in contrib[0]:
        line, counts = [], []
        for col in contrib[1]:
            terms = sorted((xr * width + xc, tr * taps + tc) for xr, tr in row for xc, tc in col)
            line.append("+".join(f"{_cell_name(x)}*w{t + 1}" for x, t in terms) or "0")
            counts.append(len(terms))
        grid.append(line)
        overlaps.append(counts)
    kept_rows = [r["scatter"] for r in axes_rows[0] if r["output"] is not None]
    kept_cols = [c["scatter"] for c in axes_rows[1] if c["output"] is not None]
    return {
        "rank": n,
        "input": [[_cell_name(r * width + c) for c in range(width)] for r in range(axes[0][0])],
        "kernel": [[f"w{r * taps + c + 1}" for c in range(taps)] for r in range(axes[0][1])],
        "rows": axes_rows[0],
        "columns": axes_rows[1],
        "cells": grid,
        "overlaps": overlaps,
        "output": [[grid[r][c] for c in kept_cols] for r in kept_rows],
    }


# ----------------------------------------------------------------------------------------------------------------
# Explaining one layer
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """What :func:`explain` found: :attr:`data` (JSON-able) and its text form :meth:`format`."""

    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def format(self) -> str:
        return _format(self.data)


def _pick_layer(model: Model, name: str | None) -> Any:
    candidates = [layer for layer in model.layers if isinstance(layer, (Deconvolution, Upsample))]
    listed = ", ".join(f"{layer.name} ({layer.kind})" for layer in candidates) or "none"
    if name is None:
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise ValidationError("the model has no Deconvolution or Upsample layer to explain")
        raise ValidationError(
            f"the model has {len(candidates)} Deconvolution/Upsample layers; pick one with --layer NAME: {listed}"
        )
    found = [layer for layer in model.layers if layer.name == name]
    if not found:
        raise ValidationError(f"the model has no layer {name!r}; its Deconvolution/Upsample layers are: {listed}")
    if not isinstance(found[0], (Deconvolution, Upsample)):
        raise ValidationError(
            f"layer {name!r} ({found[0].kind}) is not a Deconvolution or Upsample; explain one of: {listed}"
        )
    return found[0]


def explain(
    model: Model, layer: str | None = None, *, require_matrix: bool = False, source: str | None = None
) -> Explanation:
    """Explain the Deconvolution or Upsample ``layer`` of ``model`` (the only one when ``layer`` is None).

    ``require_matrix`` makes a layer too large (or not 1-D/2-D) for the symbolic matrix an error instead of a
    note.  ``source`` is shown as where the layer came from.
    """
    target = _pick_layer(model, layer)
    x = model.input_types(target)[0]
    (y,) = target.infer([x])
    in_spatial = tuple(x.shape[2:])
    data: dict[str, Any] = {
        "layer": target.name,
        "kind": target.kind,
        "source": source,
        "input_shape": list(x.shape),
        "output_shape": list(y.shape),
    }
    deconv: Deconvolution | None = target if isinstance(target, Deconvolution) else None
    if isinstance(target, Upsample):
        data["resize"] = _resize_facts(target, in_spatial)
        resize_only = target.mode == "cubic" or target.antialias or target.roi is not None
        resize_only = resize_only or target.keep_aspect_ratio_policy != "stretch"
        try:
            if resize_only:
                raise UnsupportedError(
                    f"layer {target.name!r} (Upsample): mode {target.mode} with its Resize-only options has no "
                    "deconvolution form"
                )
            deconv = target.as_deconvolution(x.shape[1], in_spatial)
            data["deconvolution_form"] = None
        except ConvertkitError as exc:
            data["deconvolution_form"] = str(exc)
    data["geometry"] = _geometry(deconv, x.shape) if deconv is not None else None
    geo = data["geometry"]
    if geo is not None:
        args = tuple(tuple(geo[k]) for k in ("kernel_shape", "strides", "dilations", "pads", "output_padding"))
        data["sizes"] = size_table(in_spatial, *args)  # type: ignore[arg-type]
        try:
            data["matrix"] = symbolic_matrix(in_spatial, *args)  # type: ignore[arg-type]
            data["matrix_note"] = None
        except UnsupportedError as exc:
            if require_matrix:
                raise UnsupportedError(
                    f"layer {target.name!r}: {exc}; the sizes and the Caffe/ONNX forms are still shown without --matrix"
                ) from exc
            data["matrix"] = None
            data["matrix_note"] = f"not shown: {exc}; the sizes above still apply"
    else:
        if require_matrix:
            raise UnsupportedError(
                f"layer {target.name!r}: no deconvolution form, so no symbolic matrix: {data['deconvolution_form']}"
            )
        data["sizes"] = []
        data["matrix"] = None
        data["matrix_note"] = "not shown: the layer has no deconvolution form"
    one = Model([Input(name=target.input, shape=x.shape, dtype=x.dtype), target], name=target.name)
    data["caffe"] = _caffe_form(one, target, geo)
    data["onnx"] = _onnx_form(one)
    data["upsample"] = _upsample_facts(target, deconv, in_spatial)
    return Explanation(data)


def _geometry(layer: Deconvolution, shape: tuple[int, ...]) -> dict[str, Any]:
    geo = layer.geometry(tuple(shape[2:]))
    return {
        "kernel_shape": list(geo.kernel_shape),
        "strides": list(geo.strides),
        "dilations": list(geo.dilations),
        "pads": list(geo.pads),
        "output_padding": list(geo.output_padding),
        "group": layer.group,
        "in_channels": shape[1],
        "out_channels": layer.out_channels,
        "padding": layer.padding.to_spec(),
        "effective_kernel": [
            shapes.effective_kernel(k, d) for k, d in zip(geo.kernel_shape, geo.dilations, strict=True)
        ],
        "scatter": [
            shapes.conv_transpose_full_size(i, k, s, d)
            for i, k, s, d in zip(shape[2:], geo.kernel_shape, geo.strides, geo.dilations, strict=True)
        ],
    }


def _resize_facts(layer: Upsample, in_spatial: tuple[int, ...]) -> dict[str, Any]:
    names = _axis_names(len(in_spatial))
    out = layer.output_spatial(in_spatial)
    axes = []
    for a, i in enumerate(in_spatial):
        if layer.scales is not None and layer.keep_aspect_ratio_policy == "stretch":
            scale = layer.scales[a]
            size = shapes.resize_output_size(i, scale)
            axes.append({"axis": names[a], "size": size, "expression": f"floor({i} * {scale:g})", "note": None})
        else:
            axes.append({"axis": names[a], "size": out[a], "expression": "sizes", "note": None})
    return {
        "mode": layer.mode,
        "scales": list(layer.scales) if layer.scales is not None else None,
        "sizes": list(layer.sizes) if layer.sizes is not None else None,
        "coordinate_transformation_mode": layer.coordinate_transformation_mode,
        "nearest_mode": layer.nearest_mode if layer.mode == "nearest" else None,
        "semantics": layer.semantics,
        "lowering": layer.onnx_lowering,
        "axes": axes,
    }


def _caffe_form(one: Model, layer: Any, geo: dict[str, Any] | None) -> dict[str, Any]:
    """What ``convertkit.to_caffe`` writes for the layer (its Input layer left out), or its refusal."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CaffeWarning)
            net = to_caffe(one)
    except ConvertkitError as exc:
        return {"prototxt": None, "layers": [], "blobs": {}, "notes": [], "error": str(exc)}
    blocks, block, depth = [], [], 0
    for line in net.prototxt().splitlines():
        if depth == 0 and not line.startswith("layer {"):
            continue  # the net's name
        block.append(line)
        depth += line.count("{") - line.count("}")
        if depth == 0:
            blocks.append(block)
            block = []
    kept = [b for b in blocks if '  type: "Input"' not in b]
    layers = [(lp.name, lp.type) for lp in net.net.layer if lp.type != "Input"]
    blobs = {entry.name: [[int(d) for d in blob.shape.dim] for blob in entry.blobs] for entry in net.weights.layer}
    notes = [str(w.message) for w in caught]
    if geo is not None:
        kernel = geo["kernel_shape"]
        written = [shape[0][2:] for name, shape in blobs.items() if shape and dict(layers).get(name) == "Deconvolution"]
        n = len(kernel)
        reasons = []
        if any(p != q for p, q in zip(geo["pads"][:n], geo["pads"][n:], strict=True)):
            reasons.append("Caffe pads symmetrically")
        if any(geo["output_padding"]):
            reasons.append("Caffe has no output_padding")
        if any(d > 1 for d in geo["dilations"]):
            reasons.append("convertkit writes dilation as zero taps (OpenCV mis-sizes Caffe's dilation)")
        if written and written[-1] != kernel:
            notes.append(
                f"stock form: {'; '.join(reasons)}; so the {_x(kernel)} kernel is written as {_x(written[-1])} with "
                "zero taps and one symmetric pad, which crops exactly this layer's rows (rows only zero taps reach "
                "get the bias alone)"
            )
    types = sorted({t for _, t in layers})
    if types != ["Deconvolution"] and layers:
        notes.append(f"stock layers: {', '.join(t for _, t in layers)}")
    return {
        "prototxt": "\n".join("\n".join(b) for b in kept),
        "layers": layers,
        "blobs": blobs,
        "notes": notes,
        "error": None,
    }


def _onnx_form(one: Model) -> dict[str, Any]:
    """The nodes ``convertkit.to_onnx`` writes for the layer, or its refusal."""
    import onnx
    from onnx import numpy_helper

    try:
        proto = to_onnx(one)
    except ConvertkitError as exc:
        return {"opset": None, "nodes": [], "initializers": {}, "error": str(exc)}
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    nodes = []
    for node in proto.graph.node:
        attrs = {}
        for a in node.attribute:
            value = onnx.helper.get_attribute_value(a)
            if isinstance(value, bytes):
                value = value.decode()
            elif isinstance(value, list):
                value = [v.decode() if isinstance(v, bytes) else v for v in value]
            attrs[a.name] = value
        nodes.append(
            {
                "op_type": node.op_type,
                "name": node.name,
                "inputs": list(node.input),
                "outputs": list(node.output),
                "attributes": attrs,
            }
        )
    inits = {}
    for init in proto.graph.initializer:
        arr = numpy_helper.to_array(init)
        entry: dict[str, Any] = {"shape": list(arr.shape), "dtype": str(arr.dtype)}
        if arr.size <= _INLINE_VALUES and arr.dtype.kind in "iu":
            entry["values"] = [int(v) for v in arr.ravel()]
        elif arr.size <= _INLINE_VALUES and arr.ndim <= 1:
            entry["values"] = [float(v) for v in arr.ravel()]
        inits[init.name] = entry
    return {"opset": opset, "nodes": nodes, "initializers": inits, "error": None}


def _upsample_facts(layer: Any, deconv: Deconvolution | None, in_spatial: tuple[int, ...]) -> dict[str, Any] | None:
    """The filler's kernel and, on a ramp, where Caffe's recipe and the Resize modes differ (upsampling only)."""
    bilinear = deconv is not None and isinstance(deconv.weight, Filler) and deconv.weight.type == "bilinear"
    if not isinstance(layer, Upsample) and not bilinear:
        return None
    names = _axis_names(len(in_spatial))
    facts: dict[str, Any] = {"kernel": None, "recipe": None, "comparison": [], "note": None}
    facts["layer_computes"] = "Caffe recipe"
    if deconv is not None and bilinear:
        facts["kernel"] = _bilinear_facts(tuple(deconv.kernel_shape), names)
    elif deconv is not None:
        facts["kernel"] = {
            "filler": "constant 1 (nearest: each input row copied to f rows)",
            "per_axis": [],
            "values": None,
        }
    if isinstance(layer, Upsample):
        mode, ctm, nearest_mode = layer.mode, layer.coordinate_transformation_mode, layer.nearest_mode
        if layer.semantics == "deconvolution":
            facts["layer_computes"] = "Caffe recipe" if mode == "linear" else "ones-kernel deconvolution"
        else:
            facts["layer_computes"] = f"Resize {ctm}" if mode == "linear" else f"Resize nearest {ctm} {nearest_mode}"
        if mode not in ("linear", "nearest") or deconv is None and ctm == "tf_crop_and_resize":
            facts["note"] = f"mode {mode} ({ctm}) is compared with nothing: Caffe has no form of it"
            return facts
        out = layer.output_spatial(in_spatial)
        scales: list[float | None] = list(layer.scales) if layer.scales is not None else [None] * len(in_spatial)
        factors = list(layer.factors(in_spatial)) if deconv is not None else None
    else:
        mode, ctm, nearest_mode = "linear", "half_pixel", "round_prefer_floor"
        assert deconv is not None
        factors = _recipe_factors(deconv, in_spatial)
        if factors is None:
            facts["note"] = (
                "the geometry is not Caffe's bilinear recipe (kernel 2f - f%2, stride f, pad ceil((f-1)/2), no "
                "dilation or output_padding) on every axis, so it is not compared with Resize"
            )
            return facts
        out = tuple(i * f for i, f in zip(in_spatial, factors, strict=True))
        scales = [float(f) for f in factors]
    if factors is not None:
        recipes = [shapes.bilinear_upsample_recipe(f) if mode == "linear" else (f, f, 0) for f in factors]
        facts["recipe"] = [
            {"axis": names[a], "factor": f, "kernel": k, "stride": s, "pad": p}
            for a, (f, (k, s, p)) in enumerate(zip(factors, recipes, strict=True))
        ]
    facts["comparison"] = [
        _ramp_comparison(
            names[a], i, out[a], None if factors is None else factors[a], scales[a], mode, ctm, nearest_mode
        )
        for a, i in enumerate(in_spatial)
    ]
    return facts


def _bilinear_facts(kernel: tuple[int, ...], names: list[str]) -> dict[str, Any]:
    """Caffe's bilinear filler per axis (``f``, ``c``, the values) and the N-D kernel when small."""
    per_axis = []
    for a, k in enumerate(kernel):
        f = math.ceil(k / 2)
        values = [float(v) for v in bilinear_kernel((k,))]
        per_axis.append({"axis": names[a], "k": k, "f": f, "c": (k - 1) / (2 * f), "values": values})
    full = bilinear_kernel(kernel)
    return {"filler": "bilinear", "per_axis": per_axis, "values": full.tolist() if full.size <= 64 else None}


def _recipe_factors(deconv: Deconvolution, in_spatial: tuple[int, ...]) -> list[int] | None:
    """The factor per axis when ``deconv`` has Caffe's bilinear recipe geometry on every axis, else None."""
    geo = deconv.geometry(in_spatial)
    n = len(in_spatial)
    factors = []
    for a in range(n):
        f = geo.strides[a]
        k, s, p = shapes.bilinear_upsample_recipe(f)
        plain = geo.dilations[a] == 1 and geo.output_padding[a] == 0
        if (geo.kernel_shape[a], geo.pads[a], geo.pads[n + a]) != (k, p, p) or not plain:
            return None
        factors.append(f)
    return factors


def _ramp_comparison(
    axis: str, i: int, o: int, factor: int | None, scale: float | None, mode: str, ctm: str, nearest_mode: str
) -> dict[str, Any]:
    """One axis: the ramp ``1..i`` upsampled to ``o`` rows by each variant, and where they differ.

    linear: Caffe's recipe (with an integer ``factor``), Resize half_pixel, align_corners and the layer's own
    ``ctm``; nearest: the ones-kernel deconvolution and the layer's Resize.  Resize takes the layer's ``scale`` when
    it has one, else the size.  The ramp starts at 1 so that a zero border shows at both ends.
    """
    ramp = np.arange(1, i + 1, dtype=np.float64).reshape(1, 1, i)
    target: dict[str, Any] = {"scales": [1.0, 1.0, scale]} if scale is not None else {"sizes": [1, 1, o]}
    variants: dict[str, np.ndarray] = {}
    if mode == "linear":
        if factor is not None:
            k, s, p = shapes.bilinear_upsample_recipe(factor)
            w = bilinear_kernel((k,)).reshape(1, 1, k)
            variants["Caffe recipe"] = conv_transpose(ramp, w, strides=[s], pads=[p, p])[0, 0]
        for mode_ in dict.fromkeys(("half_pixel", "align_corners", ctm)):
            variants[f"Resize {mode_}"] = resize(ramp, mode="linear", coordinate_transformation_mode=mode_, **target)[
                0, 0
            ]
    else:
        if factor is not None:
            ones = np.ones((1, 1, factor))
            variants["ones-kernel deconvolution"] = conv_transpose(ramp, ones, strides=[factor])[0, 0]
        variants[f"Resize nearest {ctm} {nearest_mode}"] = resize(
            ramp, mode="nearest", coordinate_transformation_mode=ctm, nearest_mode=nearest_mode, **target
        )[0, 0]
    names = list(variants)
    # Every pair of the recipe, half_pixel and align_corners; the layer's own mode against half_pixel.
    pairs_of = [(x, z) for x in range(min(3, len(names))) for z in range(x + 1, min(3, len(names)))]
    pairs_of += [(names.index("Resize half_pixel"), z) for z in range(3, len(names))]
    pairs = []
    for x, z in pairs_of:
        diff = np.abs(variants[names[x]] - variants[names[z]])
        rows = [int(r) for r in np.flatnonzero(diff > 1e-9)]
        worst = int(np.argmax(diff))
        pairs.append(
            {
                "first": names[x],
                "second": names[z],
                "rows": rows,
                "max_abs": float(diff[worst]),
                "at_row": worst if rows else None,
            }
        )
    return {"axis": axis, "input": i, "output": o, "variants": names, "pairs": pairs}


# ----------------------------------------------------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------------------------------------------------


def _x(values: Any) -> str:
    return "x".join(str(v) for v in values)


def _ranges(rows: list[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``0..2, 5, 7..8``."""
    runs: list[list[int]] = []
    for r in rows:
        if runs and r == runs[-1][1] + 1:
            runs[-1][1] = r
        else:
            runs.append([r, r])
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in runs)


def _num(v: float) -> str:
    return str(v) if isinstance(v, int) else f"{v:.6g}"


def _values(vs: list[float]) -> str:
    if len(vs) > _INLINE_VALUES:
        head, tail = vs[: _INLINE_VALUES // 2 - 1], vs[-(_INLINE_VALUES // 2 - 1) :]
        return f"[{', '.join(map(_num, head))}, ... ({len(vs)} values) ..., {', '.join(map(_num, tail))}]"
    return f"[{', '.join(map(_num, vs))}]"


def _grouped(axes: list[dict[str, Any]], key: Any) -> list[tuple[str, dict[str, Any]]]:
    """Consecutive axes with the same rendering shown once: ``H, W: ...``."""
    out: list[tuple[list[str], dict[str, Any]]] = []
    for entry in axes:
        if out and key(out[-1][1]) == key(entry):
            out[-1][0].append(entry["axis"])
        else:
            out.append(([entry["axis"]], entry))
    return [(", ".join(names), entry) for names, entry in out]


def _size_key(e: dict[str, Any]) -> tuple[Any, ...]:
    return e["expression"], e["size"], e["note"], e.get("onnx_shape_inference_note")


def _format(d: dict[str, Any]) -> str:
    lines: list[str] = []
    src = f" ({d['source']})" if d.get("source") else ""
    lines.append(f"{d['kind']} {d['layer']!r}{src}: input {_x(d['input_shape'])} -> output {_x(d['output_shape'])}")
    r = d.get("resize")
    if r is not None:
        how = f"scales {'x'.join(f'{float(v):g}' for v in r['scales'])}" if r["scales"] else f"sizes {_x(r['sizes'])}"
        mode = r["coordinate_transformation_mode"] + (f", {r['nearest_mode']}" if r["nearest_mode"] else "")
        lines.append(f"  {r['mode']}, {how}, {mode}; semantics {r['semantics']}, lowering {r['lowering']}")
        for label, entry in _grouped(r["axes"], lambda e: (e["expression"], e["size"])):
            lines.append(f"  Resize size {label}: {entry['expression']} = {entry['size']}")
        if d.get("deconvolution_form"):
            lines.append(f"  no deconvolution form: {d['deconvolution_form']}")
    g = d.get("geometry")
    if g is not None:
        n = len(g["kernel_shape"])
        lead = "  Caffe's recipe for these factors: " if r is not None else "  "
        lines.append(
            f"{lead}kernel {_x(g['kernel_shape'])}, strides {_x(g['strides'])}, dilations {_x(g['dilations'])}, "
            f"pads {_x(g['pads'][:n])} begin, {_x(g['pads'][n:])} end, output_padding {_x(g['output_padding'])}, "
            f"group {g['group']}, channels {g['in_channels']} -> {g['out_channels']}"
        )
        lines.append(
            f"  effective kernel {_x(g['effective_kernel'])} (k_eff = d*(k-1)+1), scatter {_x(g['scatter'])} before "
            "the pads crop"
        )
        if r is not None and r["semantics"] == "resize":
            lines.append(
                "  (sizes and matrix below are the recipe's; this Resize differs from it where 'upsampling' says)"
            )
        elif r is None and g["padding"].get("convention") != "explicit":
            written = ", ".join(f"{k} {v}" for k, v in g["padding"].items() if k != "convention")
            lines.append(f"  padding as written: {g['padding']['convention']} ({written})")
    if d["sizes"]:
        lines.append("")
        lines.append(
            "output size per axis (i input, k kernel, s stride, d dilation, k_eff = d*(k-1)+1, op output_padding, "
            "pb/pe pads)"
        )
        for row in d["sizes"]:
            lines.append(f"  {row['label']:<17} {row['formula']}")
            for label, e in _grouped(row["axes"], _size_key):
                if e["size"] is None:
                    lines.append(f"      {label}: not expressible: {e['note']}")
                    continue
                note = f"  ({e['note']})" if e["note"] else ""
                lines.append(f"      {label}: {e['expression']} = {e['size']}{note}")
                if e.get("onnx_shape_inference_note"):
                    lines.append(f"        {e['onnx_shape_inference_note']}")
            if row["note"]:
                lines.append(f"      note: {row['note']}")
    lines.append("")
    m = d["matrix"]
    if m is None:
        lines.append(f"symbolic output: {d['matrix_note']}")
    else:
        lines.extend(_format_matrix(m, g))
    lines.append("")
    lines.extend(_format_caffe(d["caffe"]))
    lines.append("")
    lines.extend(_format_onnx(d["onnx"]))
    if d.get("upsample"):
        lines.append("")
        lines.extend(_format_upsample(d["upsample"]))
    return "\n".join(lines)


def _format_matrix(m: dict[str, Any], g: dict[str, Any] | None) -> list[str]:
    inp, ker = m["input"], m["kernel"]
    lines = [
        f"symbolic output (input cells {inp[0][0]}..{inp[-1][-1]} and kernel taps w1..w{len(ker) * len(ker[0])}, "
        "row-major; one input channel through one kernel)"
    ]
    if g is not None and (g["in_channels"] > 1 or g["out_channels"] > 1):
        per = g["in_channels"] // g["group"]
        lines.append(
            f"  group {g['group']}: output channel m adds this matrix over the {per} input channel(s) of its group, "
            "each with its own cells and kernel W[c, m % (out/group)]"
        )
    width = max(len(v) for row in inp for v in row)
    kw = max(len(v) for row in ker for v in row)
    height = max(len(inp), len(ker))
    for r in range(height):
        left = " ".join(v.ljust(width) for v in inp[r]) if r < len(inp) else ""
        right = " ".join(v.ljust(kw) for v in ker[r]) if r < len(ker) else ""
        lines.append(
            f"  {'input' if r == 0 else '':<6} {left:<{(width + 1) * len(inp[0])}}   "
            f"{'kernel' if r == 0 else '':<6} {right}".rstrip()
        )

    def label(entry: dict[str, Any]) -> str:
        if entry["status"] == "cropped":
            return "-"
        return f"{entry['output']}{'+' if entry['status'] == 'output_padding' else ''}"

    def table(values: list[list[str]]) -> list[str]:
        col_labels = [label(c) for c in m["columns"]]
        row_labels = [label(r) for r in m["rows"]] if m["rank"] == 2 else [""]
        widths = [
            max(len(col_labels[c]), *(len(values[r][c]) for r in range(len(values)))) for c in range(len(col_labels))
        ]
        lw = max(len(x) for x in row_labels)
        out = ["  " + " " * lw + "  " + "  ".join(col_labels[c].ljust(widths[c]) for c in range(len(widths)))]
        for r, row in enumerate(values):
            out.append(
                "  " + row_labels[r].ljust(lw) + "  " + "  ".join(row[c].ljust(widths[c]) for c in range(len(widths)))
            )
        return [line.rstrip() for line in out]

    lines.append(
        "  rows and columns labelled by output index; - cropped by the pads, + output_padding (bias only); 0: no "
        "contribution"
    )
    lines.extend(table(m["cells"]))
    lines.append("  overlaps (products per cell)")
    lines.extend(table([[str(v) for v in row] for row in m["overlaps"]]))
    return lines


def _format_caffe(c: dict[str, Any]) -> list[str]:
    lines = ["Caffe (what convertkit.to_caffe writes)"]
    if c["error"]:
        lines.append(f"  no exact Caffe form: {c['error']}")
        return lines
    lines.extend(f"  {line}" for line in c["prototxt"].splitlines())
    if c["blobs"]:
        blobs = "; ".join(f"{name}: {', '.join(_x(s) for s in shapes_)}" for name, shapes_ in c["blobs"].items())
        lines.append(f"  caffemodel blobs: {blobs}")
    lines.extend(f"  {note}" for note in c["notes"])
    return lines


def _format_onnx(o: dict[str, Any]) -> list[str]:
    if o["error"]:
        return ["ONNX (what convertkit.to_onnx writes)", f"  no ONNX form: {o['error']}"]
    lines = [f"ONNX (what convertkit.to_onnx writes, opset {o['opset']})"]
    for node in o["nodes"]:
        attrs = " ".join(f"{k}={v}" for k, v in sorted(node["attributes"].items()))
        lines.append(f"  {node['op_type']} {node['name']!r}: {attrs}".rstrip())
        ins = []
        for name in node["inputs"]:
            init = o["initializers"].get(name)
            if init is None:
                ins.append(name or "''")
            elif "values" in init:
                ins.append(f"{name} = [{', '.join(_num(v) for v in init['values'])}]")
            else:
                ins.append(f"{name} ({_x(init['shape'])})")
        lines.append(f"      inputs: {', '.join(ins)} -> {', '.join(node['outputs'])}")
    return lines


def _format_upsample(u: dict[str, Any]) -> list[str]:
    lines = ["upsampling", f"  this layer computes: {u['layer_computes']}"]
    k = u["kernel"]
    if k is not None:
        if k["filler"] == "bilinear":
            for label, e in _grouped(k["per_axis"], lambda e: e["values"]):
                lines.append(
                    f"  bilinear filler {label}: k {e['k']}, f = ceil(k/2) = {e['f']}, c = (k-1)/(2f) = {e['c']:g}, "
                    f"w[x] = 1 - |x/f - c| = {_values(e['values'])}"
                )
            if k["values"] is not None and len(k["per_axis"]) == 2:
                lines.append("  kernel (outer product of the axes):")
                for row in k["values"]:
                    lines.append("    " + " ".join(f"{v:<8.6g}" for v in row).rstrip())
        else:
            lines.append(f"  kernel: {k['filler']}")
    linear = k is None or k["filler"] == "bilinear"
    for label, e in _grouped(u["recipe"] or [], lambda e: (e["factor"], e["kernel"], e["pad"])):
        if linear:
            lines.append(
                f"  {label}: Caffe's recipe for factor {e['factor']}: kernel 2f - f%2 = {e['kernel']}, stride "
                f"{e['stride']}, pad ceil((f-1)/2) = {e['pad']}"
            )
        else:
            lines.append(f"  {label}: factor {e['factor']}: kernel {e['kernel']} of ones, stride {e['stride']}, pad 0")
    for label, c in _grouped(u["comparison"], lambda e: (e["input"], e["output"], e["pairs"])):
        lines.append(f"  on a ramp 1..{c['input']} along {label} ({c['output']} output rows):")
        for p in c["pairs"]:
            if not p["rows"]:
                lines.append(f"    {p['first']} = {p['second']} on every row")
            else:
                lines.append(
                    f"    {p['first']} vs {p['second']}: differ at rows {_ranges(p['rows'])}; largest |difference| "
                    f"{_num(p['max_abs'])} at row {p['at_row']}"
                )
    if u["note"]:
        lines.append(f"  {u['note']}")
    return lines
