"""The fastest exact ONNX form of an upsample-like layer (``ExportOptions.optimize == "speed"``), defined once.

onnxruntime's grouped ConvTranspose is slow (it scatters ``K^2`` columns per input pixel, group by group); the
same values come out of cheaper forms.  Measured with ``python -m benchmarks.bench_forms`` (1x21x64x64, one
onnxruntime thread, medians of interleaved runs; literal depthwise ConvTranspose = 1.00x, higher is faster):

====================  ========  =========  ==============  ============  ===========
bilinear recipe xf    full C*C  Pad+Resize  Resize per axis  separable     (ratio)
====================  ========  =========  ==============  ============  ===========
x2                    0.3-0.7   0.8-0.9    0.2-0.6          1.2-1.4
x8                    0.6-0.7   1.1-1.5    1.1-1.5          1.6-1.8
x32                   0.8-0.9   3.9-4.2    3.8-4.0          5.7
nearest x2 / x8       Resize 1.3-1.7 / 1.2-1.3; separable ones 0.6 / 1.0
align_corners z2/z8   ConvTranspose vs Resize inconclusive at z2 (noise); separable 0.96-1.3x Resize at z8
====================  ========  =========  ==============  ============  ===========

(``separable`` passes the W axis first: H first was 1.5-7x slower.)  Its last pass (the first spatial axis,
which writes the whole output) as ``windowed`` — windows of input rows (``Pad``, one ``Slice`` per tap,
``Concat``) -> one 1-D ``Conv`` whose output channels are the stride phases, a GEMM of <= 3 terms writing each
output once — was equal at x8, 2.3x faster at x16 and 2.6x at x32 than that pass as a ConvTranspose.

The rule (:func:`choose_form`):

- a 1-D or 2-D Deconvolution with the bilinear (or a ones) kernel on every channel, no dilation, each resampled
  axis at most :data:`DENSE_MAX_IN` long in and :data:`DENSE_MAX_OUT` out: **dense** — each axis as one MatMul
  by its interpolation matrix (the 1-D transposed convolution written as a ``(in, out)`` matrix): ``Transpose``
  (H, W swapped) -> MatMul ``(H, OH)`` -> ``Transpose`` -> MatMul ``(W, OW)`` [-> ``Bias``], in the IR an
  ``InnerProduct`` on the last axis, written as ``MatMul``.  The GEMM writes the output once, with no scatter
  and no copy; the products are the separable form's, and the other terms of each sum are exact zeros.  Finite
  inputs only: an input value of inf or NaN turns a whole row or column of the output NaN (``0 * inf``), where
  the literal form spreads it over the kernel's reach.  Measured 1.5-7.5x against the separable form's 1.2-5.5x
  where it applies (:data:`DENSE_MAX_IN`).
- a Deconvolution whose per-channel kernel is Caffe's bilinear filler (the recipe, FCN's upscore at any pads,
  the align-corners triangle), the same on every channel (grouped ``group == C``, or FCN's full ``C x C``
  diagonal): **separable** — ``Reshape (N*C, 1, *S)`` -> one single-channel ConvTranspose per spatial axis, last
  axis first, kernel ``K`` along that axis only (same stride, pads, dilation, output_padding) -> ``Reshape`` back
  [-> ``Bias``].  Exact: the bilinear kernel is the outer product of its 1-D kernels, so the passes compute the
  same sums of the same products (float32 rounding of a product of two weights aside: <= 1e-7 relative).
  The weights stored are the 1-D kernels (a few floats instead of ``C * K^2``).  With stride >=
  :data:`WINDOWED_MIN_STRIDE` on the first spatial axis, that pass is ``windowed`` (:func:`phase_taps`).
- a ones-kernel Deconvolution with kernel = stride = f, no pads (Caffe's nearest recipe): **Resize** nearest
  (asymmetric, floor: output row ``i`` reads ``floor(i / f)``, which is what the ones kernel scatters).
- linear align_corners Upsample with integer zooms (sizes ``z * (in - 1) + 1``) where the dense form fits: the
  triangle recipe (kernel ``2z - 1``, stride ``z``, pad ``z - 1``), then dense; past the dense limits Resize stays
  (the triangle's separable form measured 0.85-0.95x Resize at z16 on 1x21x64x64).  Dense against Resize
  (1x21xSxS, one thread): S 16: 1.8 / 2.4 / 2.6 / 2.3x at z 2 / 4 / 8 / 16; S 32: 1.9 / 1.8 / 2.6 / 1.9x;
  S 64: 1.2 / 1.2 / 1.1-1.3x to z 8 (and 0.74-0.76x at z 16, past :data:`DENSE_MAX_OUT`).
- anything else: the literal form.

:func:`choose_form` is the one place that decides, so a target (onnxruntime, OpenVINO, ...) can veto a form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..fillers import Filler, Values, bilinear_kernel, bilinear_kernel_1d
from ..ir import Layer, TensorType
from ..layers.bias import Bias
from ..layers.concat import Concat
from ..layers.convolution import Convolution
from ..layers.crop import Crop
from ..layers.deconvolution import Deconvolution, Padding
from ..layers.inner_product import InnerProduct
from ..layers.pad import Pad
from ..layers.reshape import Reshape
from ..layers.transpose import Transpose
from ..layers.upsample import Upsample
from . import ExportOptions, Fusion, Graph, Lowering

__all__ = [
    "Analysis",
    "analyse",
    "choose_form",
    "separable_form",
    "dense_form",
    "interpolation_matrix",
    "LOWERINGS",
    "OPTIMIZE_CHOICES",
]

OPTIMIZE_CHOICES: tuple[str, ...] = ("speed", "none")
#: Smallest stride whose last (biggest) pass runs faster as windows + 1-D Conv than as a ConvTranspose
#: (benchmarks/bench_forms.py, ``windowed``: equal at x8, 2.3x at x16, 2.6x at x32).
WINDOWED_MIN_STRIDE = 16
#: The dense form's limits per spatial axis: input length (the GEMM's inner dimension, the work per output value)
#: and output length.  Measured (``python -m benchmarks.bench_forms --shape 1,21,S,S --only bilinear``, one
#: onnxruntime thread, literal depthwise ConvTranspose = 1.00x; dense against the best other form):
#: S 16: dense 2.5 / 4.7 / 4.0 / 7.3 / 7.7x at x2 / x4 / x8 / x16 / x32 (separable 1.4 / 2.0 / 2.2 / 4.3 / 3.7);
#: S 64: 1.4 / 1.8 / 2.6x up to x8 (separable 1.3 / 1.5 / 1.9), but 5.1 against windowed 9.0 at x16;
#: S 128: 0.8 / 1.2 / 2.7x against separable 1.2 / 1.6 / 2.7 and windowed 3.7 at x8.
DENSE_MAX_IN = 64
DENSE_MAX_OUT = 512
#: How far (absolute, weights <= 1) a stored kernel may be from the bilinear filler to count as it: float32
#: rounding of the filler's values, as Caffe or another converter computed them.
KERNEL_TOLERANCE = 1e-7


@dataclass(frozen=True)
class Analysis:
    """What an upsample-like Deconvolution is: ``kernel`` ``bilinear`` or ``ones`` (the same on every channel)."""

    kernel: str
    diagonal: bool


def _per_channel_kernels(layer: Deconvolution, c: int) -> tuple[np.ndarray, bool] | None:
    """The ``(C, *K)`` kernels of a depthwise (group C) or diagonal full layer, with whether it was diagonal."""
    if layer.out_channels != c:
        return None
    if layer.group == c:
        assert isinstance(layer.weight, Values)
        return layer.weight.array[:, 0], False
    if layer.group == 1 and c > 1:
        diagonal = layer.diagonal_kernel(c)
        if diagonal is not None:
            return diagonal, True
    return None


def analyse(layer: Layer, x: TensorType) -> Analysis | None:
    """The upsample this Deconvolution is (bilinear or ones kernel on every channel), or None."""
    if not isinstance(layer, Deconvolution):
        return None
    c = x.shape[1]
    depthwise = layer.group == c == layer.out_channels
    if isinstance(layer.weight, Filler):
        # decided from the filler: never materialise the weights to look at them
        if depthwise and layer.weight.type == "bilinear":
            return Analysis("bilinear", False)
        if depthwise and layer.weight.type == "constant" and layer.weight.value == 1.0:
            return Analysis("ones", False)
        return None  # random fillers are no fixed kernel; a constant full layer is no diagonal
    try:
        found = _per_channel_kernels(layer, c)
    except Exception:  # noqa: BLE001  (a weight the layer cannot materialise here is no upsample)
        return None
    if found is None:
        return None
    kernels, diagonal = found
    first = kernels[0]
    if not np.all(kernels == first):
        return None
    if np.all(first == 1.0):
        return Analysis("ones", diagonal)
    if np.max(np.abs(first - bilinear_kernel(layer.kernel_shape))) <= KERNEL_TOLERANCE:
        return Analysis("bilinear", diagonal)
    return None


def choose_form(layer: Layer, x: TensorType, options: ExportOptions) -> str:
    """``dense``, ``separable``, ``resize``, ``triangle`` (align-corners Upsample -> recipe) or ``literal``: the
    form to emit.

    The one decision point (see the module docstring for the measurements).  The forms were measured in
    onnxruntime, and the separable form's 1-D ConvTranspose passes are a form OpenCV's ONNX importer refuses
    (:mod:`convertkit.portability`), so only ``--target onnxruntime`` gets them: for ``portable`` (the default) and
    the other runtimes the literal form stays (where speed and portability pull apart, the target decides).
    """
    if options.optimize != "speed" or options.runtime != "onnxruntime":
        return "literal"
    if isinstance(layer, Upsample):
        zooms = _align_corners_zooms(layer, x)
        if zooms is None:
            return "literal"
        # Past the dense limits the triangle's separable form (windowed last pass) measured 0.85-0.95x Resize at
        # z16 on 1x21x64x64 (and 1.3x in an earlier run): not reliably faster, so Resize stays.
        ins, outs = x.shape[2:], layer.output_spatial(x.shape[2:])
        if len(zooms) <= 2 and all(i <= DENSE_MAX_IN and o <= DENSE_MAX_OUT for i, o in zip(ins, outs, strict=True)):
            return "triangle"  # then dense: 1.2-2.6x Resize on 1x21xSxS, S 16..64, z 2..16 (module docstring)
        return "literal"
    found = analyse(layer, x)
    if found is None or not isinstance(layer, Deconvolution):
        return "literal"
    geo = layer.geometry(x.shape[2:])
    if all(k == 1 for k in geo.kernel_shape) and all(s == 1 for s in geo.strides):
        return "literal"  # a 1x1 copy: nothing to gain
    if found.kernel == "ones":
        plain = geo.kernel_shape == geo.strides and not any(geo.pads) and not any(geo.output_padding)
        if plain and all(d == 1 for d in geo.dilations):
            return "resize"
    if _dense_fits(layer, x):
        return "dense"
    return "separable"


def _moved_axes(geo: Any, n: int) -> list[int]:
    """The spatial axes a Deconvolution resamples (the others it copies: kernel 1, stride 1, no pads)."""
    return [
        a
        for a in range(n)
        if not (
            geo.kernel_shape[a] == 1
            and geo.strides[a] == 1
            and not geo.pads[a]
            and not geo.pads[n + a]
            and not geo.output_padding[a]
        )
    ]


def _dense_fits(layer: Deconvolution, x: TensorType) -> bool:
    n = layer.spatial_rank
    if n not in (1, 2):
        return False
    geo = layer.geometry(x.shape[2:])
    if any(d != 1 for d in geo.dilations):
        return False
    outs = geo.output_spatial(x.shape[2:])
    return all(x.shape[2 + a] <= DENSE_MAX_IN and outs[a] <= DENSE_MAX_OUT for a in _moved_axes(geo, n))


def interpolation_matrix(taps: np.ndarray, stride: int, begin: int, size_in: int, size_out: int) -> np.ndarray:
    """The 1-D transposed convolution (dilation 1, begin pad ``begin``, output cropped or zero-extended to
    ``size_out``) as a ``(size_in, size_out)`` matrix ``M``: ``y = x @ M``, ``M[i, o] = taps[o + begin - stride * i]``
    where that tap exists, else 0."""
    k = len(taps)
    m = np.zeros((size_in, size_out), dtype=np.float64)
    for i in range(size_in):
        lo = stride * i - begin
        for t in range(max(0, -lo), min(k, size_out - lo)):
            m[i, lo + t] = taps[t]
    return m


def read_interpolation_matrix(m: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    """``(taps, stride, begin)`` with :func:`interpolation_matrix` ``(taps, stride, begin, *m.shape) == m`` exactly,
    the taps all non-zero (a bilinear or ones kernel), or None."""
    size_in, size_out = m.shape
    rows = [np.flatnonzero(m[i]) for i in range(size_in)]
    if size_in < 2 or any(len(r) == 0 or r[-1] - r[0] + 1 != len(r) for r in rows):
        return None
    k = max(len(r) for r in rows)
    # row i's first tap lands on column s*i - begin: read it off a row whose top is not cut (or whose bottom is not)
    known = {}
    for i, r in enumerate(rows):
        if r[0] > 0:
            known[i] = int(r[0])
        elif r[-1] < size_out - 1:
            known[i] = int(r[-1]) - (k - 1)
    if len(known) < 2:
        return None
    (i0, lo0), (i1, lo1) = sorted(known.items())[:2]
    stride, rem = divmod(lo1 - lo0, i1 - i0)
    if stride < 1 or rem:
        return None
    full = [i for i, r in enumerate(rows) if len(r) == k]
    taps = m[full[0], rows[full[0]]]
    begin = stride * i0 - lo0
    if begin < 0:
        return None
    if not np.array_equal(interpolation_matrix(taps, stride, begin, size_in, size_out), m):
        return None
    return taps, stride, begin


def dense_form(layer: Deconvolution, x: TensorType, graph: Graph, kernel: str) -> list[Layer]:
    """``Transpose`` -> ``InnerProduct`` (MatMul by the H axis's interpolation matrix) -> ``Transpose`` ->
    ``InnerProduct`` (the W axis's) [-> ``Bias``]; an axis the layer does not resample has no step."""
    n = layer.spatial_rank
    geo = layer.geometry(x.shape[2:])
    dtype = np.dtype(x.dtype)
    name = layer.name
    outs = geo.output_spatial(x.shape[2:])
    bias = layer.bias_array(dtype)
    moved = _moved_axes(geo, n)
    plan: list[tuple[str, Any]] = []
    for a in moved:
        k = geo.kernel_shape[a]
        taps = bilinear_kernel_1d(k) if kernel == "bilinear" else np.ones(k)
        matrix = interpolation_matrix(taps, geo.strides[a], geo.pads[a], x.shape[2 + a], outs[a]).astype(dtype)
        if a == n - 1:
            plan.append(("matmul", matrix))
        else:  # the H axis of a 2-D layer: bring it last, multiply, put it back
            plan += [("swap", None), ("matmul", matrix), ("swap", None)]
    steps: list[Layer] = []
    value = layer.input
    for j, (step, matrix) in enumerate(plan):
        last = j == len(plan) - 1 and bias is None
        out = layer.output if last else graph.names.fresh(f"{name}.{step}")
        if step == "swap":
            perm = (0, 1, 3, 2)
            steps.append(Transpose(name=graph.names.fresh(f"{name}.{step}"), input=value, output=out, perm=perm))
        else:
            steps.append(
                InnerProduct(
                    name=graph.names.fresh(f"{name}.{step}"),
                    input=value,
                    output=out,
                    num_output=matrix.shape[1],
                    axis=n + 1,
                    transpose=True,
                    bias_term=False,
                    weight=Values(array=np.ascontiguousarray(matrix)),
                )
            )
        value = out
    if bias is not None:
        steps.append(
            Bias(name=graph.names.fresh(f"{name}.bias"), input=value, output=layer.output, bias=Values(array=bias))
        )
    return steps


def _align_corners_zooms(layer: Upsample, x: TensorType) -> tuple[int, ...] | None:
    """Integer zooms of a plain linear align_corners Upsample (sizes ``z * (in - 1) + 1``), else None."""
    if layer.mode != "linear" or layer.coordinate_transformation_mode != "align_corners":
        return None
    if layer.semantics != "resize" or layer.onnx_lowering != "resize" or layer._resize_features():
        return None
    ins, outs = x.shape[2:], layer.output_spatial(x.shape[2:])
    if any(i < 2 or (o - 1) % (i - 1) for i, o in zip(ins, outs, strict=True)):
        return None
    return tuple((o - 1) // (i - 1) for i, o in zip(ins, outs, strict=True))


def separable_form(layer: Deconvolution, x: TensorType, graph: Graph, kernel: str) -> list[Layer]:
    """``Reshape (N*C, 1, *S)`` -> one single-channel Deconvolution per spatial axis (last first) -> ``Reshape``
    [-> ``Bias``]; ``kernel`` ``bilinear`` or ``ones``."""
    n = layer.spatial_rank
    geo = layer.geometry(x.shape[2:])
    batch, c = x.shape[0], x.shape[1]
    dtype = np.dtype(x.dtype)
    name = layer.name
    steps: list[Layer] = []
    value = layer.input
    if c != 1:  # one channel already is one plane per image
        value = graph.names.fresh(f"{name}.planes")
        steps.append(
            Reshape(
                name=graph.names.fresh(f"{name}.planes"),
                input=layer.input,
                output=value,
                shape=(batch * c, 1, *x.shape[2:]),
            )
        )
    passes = list(reversed(_moved_axes(geo, n)))
    windowed = None
    if passes and passes[-1] == 0 and geo.strides[0] >= WINDOWED_MIN_STRIDE:
        windowed = passes.pop()  # the big last pass: windows of input rows -> 1-D Conv over the taps
    for a in passes:
        k = geo.kernel_shape[a]
        taps = bilinear_kernel_1d(k) if kernel == "bilinear" else np.ones(k)
        shape = [1, 1] + [1] * n
        shape[2 + a] = k
        one = [1] * n
        pads = [0] * (2 * n)
        pads[a], pads[n + a] = geo.pads[a], geo.pads[n + a]

        def along(v: int, one: list[int] = one, a: int = a) -> tuple[int, ...]:
            t = list(one)
            t[a] = v
            return tuple(t)

        last = a == passes[-1] and windowed is None and c == 1 and layer.bias_array(dtype) is None
        out = layer.output if last else graph.names.fresh(f"{name}.axis{a}")
        steps.append(
            Deconvolution(
                name=graph.names.fresh(f"{name}.axis{a}"),
                input=value,
                output=out,
                out_channels=1,
                kernel_shape=along(k),
                strides=along(geo.strides[a]),
                dilations=along(geo.dilations[a]),
                padding=Padding(pads=tuple(pads)),
                output_padding=tuple(geo.output_padding[a] if b == a else 0 for b in range(n)),
                bias_term=False,
                weight=Values(array=taps.astype(dtype).reshape(shape)),
                frozen=True,
            )
        )
        value = out
    out_spatial = geo.output_spatial(x.shape[2:])
    bias = layer.bias_array(dtype)
    if windowed is not None:
        taps = bilinear_kernel_1d(geo.kernel_shape[0]) if kernel == "bilinear" else np.ones(geo.kernel_shape[0])
        more, value = _windowed_pass(
            layer, graph, value, (batch * c, 1, x.shape[2], *out_spatial[1:]), geo, taps, out_spatial[0], dtype
        )
        steps.extend(more)
    if c != 1 or windowed is not None:
        reshaped = layer.output if bias is None else graph.names.fresh(f"{name}.channels")
        steps.append(
            Reshape(
                name=graph.names.fresh(f"{name}.channels"), input=value, output=reshaped, shape=(batch, c, *out_spatial)
            )
        )
        value = reshaped
    if bias is not None:
        steps.append(
            Bias(name=graph.names.fresh(f"{name}.bias"), input=value, output=layer.output, bias=Values(array=bias))
        )
    return steps


def phase_taps(taps: np.ndarray, stride: int, dilation: int, begin: int) -> tuple[np.ndarray, int]:
    """``(T, dmin)``: output row ``stride * m + q`` of a 1-D transposed convolution (begin pad ``begin``) is
    ``sum_d T[q, d] * x[m + dmin + d]`` — the kernel split into its ``stride`` phases (full row ``j = o + begin``
    gets ``x[i] * w[t]`` where ``j = stride * i + dilation * t``)."""
    k = len(taps)
    reach = dilation * (k - 1)
    dmin = -((reach - begin) // stride)  # ceil((begin - reach) / stride)
    dmax = (stride - 1 + begin) // stride
    table = np.zeros((stride, dmax - dmin + 1), dtype=np.float64)
    for q in range(stride):
        for d in range(dmin, dmax + 1):
            idx = q + begin - stride * d
            if 0 <= idx <= reach and idx % dilation == 0:
                table[q, d - dmin] = taps[idx // dilation]
    return table, dmin


def _windowed_pass(
    layer: Deconvolution,
    graph: Graph,
    value: str,
    shape: tuple[int, ...],
    geo: Any,
    taps: np.ndarray,
    out_rows: int,
    dtype: np.dtype,
) -> tuple[list[Layer], str]:
    """The pass along the first spatial axis of ``value`` (shape ``(P, 1, H, *rest)``) as ``Pad`` -> one ``Crop``
    per tap row -> ``Concat`` (windows ``(P, M, D, R)``) -> a 1-D ``Convolution`` over the taps (``D`` in, stride
    ``f`` phases out) -> ``Reshape (P, 1, M*f, *rest)`` [-> ``Crop`` to the output rows]: the output is written
    once by a GEMM with ``D <= 3`` terms, not scattered.  Returns the pass's output value."""
    n = len(shape) - 2
    name = layer.name
    f, h, rest = geo.strides[0], shape[2], shape[3:]
    r = int(np.prod(rest, dtype=np.int64)) if rest else 1
    table, dmin = phase_taps(taps, f, geo.dilations[0], geo.pads[0])
    d_count = table.shape[1]
    m = -(-out_rows // f)
    begin, end = max(0, -dmin), max(0, m - 1 + dmin + d_count - 1 - (h - 1))
    steps: list[Layer] = []
    padded = value
    if begin or end:
        padded = graph.names.fresh(f"{name}.rows")
        steps.append(
            Pad(
                name=graph.names.fresh(f"{name}.rows"),
                input=value,
                output=padded,
                pads=(begin,) + (0,) * (n - 1) + (end,) + (0,) * (n - 1),
            )
        )
    start = dmin + begin
    parts = []
    for d in range(d_count):
        sliced = graph.names.fresh(f"{name}.tap{d}")
        steps.append(
            Crop(
                name=graph.names.fresh(f"{name}.tap{d}"),
                input=padded,
                output=sliced,
                axis=2,
                offset=(start + d,) + (0,) * (n - 1),
                shape=(m, *rest),
            )
        )
        window = graph.names.fresh(f"{name}.window{d}")
        steps.append(Reshape(name=window, input=sliced, output=window, shape=(shape[0], m, 1, r)))
        parts.append(window)
    windows = graph.names.fresh(f"{name}.windows")
    steps.append(Concat(name=windows, input_names=tuple(parts), output=windows, axis=2))
    rows = graph.names.fresh(f"{name}.taps")
    steps.append(Reshape(name=rows, input=windows, output=rows, shape=(shape[0] * m, d_count, r)))
    phases = graph.names.fresh(f"{name}.phases")
    steps.append(
        Convolution(
            name=phases,
            input=rows,
            output=phases,
            out_channels=f,
            kernel_shape=(1,),
            bias_term=False,
            weight=Values(array=table.astype(dtype).reshape(f, d_count, 1)),
        )
    )
    out = graph.names.fresh(f"{name}.interleaved")
    steps.append(Reshape(name=out, input=phases, output=out, shape=(shape[0], 1, m * f, *rest)))
    if m * f != out_rows:
        cropped = graph.names.fresh(f"{name}.cropped")
        steps.append(Crop(name=cropped, input=out, output=cropped, axis=2, offset=(0,) * n, shape=(out_rows, *rest)))
        out = cropped
    return steps, out


def nearest_form(layer: Deconvolution, x: TensorType, graph: Graph) -> list[Layer]:
    """A ones-kernel Deconvolution (kernel = stride = f, no pads) as one nearest Resize [-> ``Bias``]."""
    dtype = np.dtype(x.dtype)
    bias = layer.bias_array(dtype)
    assert layer.strides is not None
    resize = Upsample(
        name=layer.name if bias is None else graph.names.fresh(f"{layer.name}.resize"),
        input=layer.input,
        output=layer.output if bias is None else graph.names.fresh(f"{layer.name}.resize"),
        mode="nearest",
        scales=tuple(float(s) for s in layer.strides),
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )
    if bias is None:
        return [resize]
    return [
        resize,
        Bias(
            name=graph.names.fresh(f"{layer.name}.bias"),
            input=resize.output,
            output=layer.output,
            bias=Values(array=bias),
        ),
    ]


def lower_fast(layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions) -> list[Layer] | None:
    """ONNX, ``optimize="speed"``: the form :func:`choose_form` picks, or None (the literal form)."""
    if not isinstance(layer, (Deconvolution, Upsample)) or not types:
        return None
    x = types[0]
    if is_single_pass(layer, x):
        return None
    form = choose_form(layer, x, options)
    if form == "triangle":
        from .upsample import triangle_recipe

        assert isinstance(layer, Upsample)
        zooms = _align_corners_zooms(layer, x)
        assert zooms is not None
        return [triangle_recipe(layer, x, zooms)]
    if not isinstance(layer, Deconvolution):
        return None
    if form == "resize":
        return nearest_form(layer, x, graph)
    if form in ("separable", "dense"):
        found = analyse(layer, x)
        assert found is not None
        build = dense_form if form == "dense" else separable_form
        return build(layer, x, graph, found.kernel)
    return None


def is_single_pass(layer: Layer, x: TensorType) -> bool:
    """Whether ``layer`` is one single-channel pass along one axis (what :func:`separable_form` emits): already
    its fastest form."""
    return (
        isinstance(layer, Deconvolution)
        and x.shape[1] == 1
        and layer.out_channels == 1
        and sum(k != 1 for k in layer.kernel_shape) <= 1
    )


LOWERINGS: dict[str, list[Lowering]] = {"onnx": [lower_fast]}


def fuse_separable(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """:func:`separable_form` read back: ``Reshape (N*C, 1, *S)`` -> single-channel Deconvolution passes (one per
    axis, last axis first, bilinear or ones taps) -> ``Reshape (N, C, *out)`` [-> ``Bias``] is one grouped frozen
    Deconvolution with the bilinear filler (or a ones kernel), exactly."""
    if len(chain) < 3 or not isinstance(chain[0], Reshape):
        return None
    x = graph.types[chain[0].input]
    n = len(x.shape) - 2
    batch, c = x.shape[0], x.shape[1]
    if n < 1 or c < 2 or graph.types[chain[0].output].shape != (batch * c, 1, *x.shape[2:]):
        return None
    kernel, strides, dilations = [1] * n, [1] * n, [1] * n
    begin, end, output_padding = [0] * n, [0] * n, [0] * n
    kinds: set[str] = set()
    used, last_axis = 1, n
    for layer in chain[1:]:
        if not isinstance(layer, Deconvolution):
            break
        t = graph.types[layer.input]
        if layer.out_channels != 1 or layer.group != 1 or layer.bias_term or not isinstance(layer.weight, Values):
            return None
        axes = [a for a, k in enumerate(layer.kernel_shape) if k != 1]
        geo = layer.geometry(t.shape[2:])
        moved = [a for a in range(n) if geo.strides[a] != 1 or geo.pads[a] or geo.pads[n + a] or geo.output_padding[a]]
        if len(set(axes) | set(moved)) != 1:
            return None
        (a,) = set(axes) | set(moved)
        if a >= last_axis:
            return None
        taps = layer.weight.array.reshape(-1).astype(np.float64)
        if np.all(taps == 1.0):
            kinds.add("ones")
        elif np.max(np.abs(taps - bilinear_kernel_1d(len(taps)))) <= KERNEL_TOLERANCE:
            kinds.add("bilinear")
        else:
            return None
        kernel[a], strides[a], dilations[a] = len(taps), geo.strides[a], geo.dilations[a]
        begin[a], end[a], output_padding[a] = geo.pads[a], geo.pads[n + a], geo.output_padding[a]
        last_axis, used = a, used + 1
    if used < 2 or len(kinds) != 1 or used >= len(chain) or not isinstance(chain[used], Reshape):
        return None
    back = chain[used]
    assert isinstance(back, Reshape)
    if graph.types[back.output].shape != (batch, c, *graph.types[back.input].shape[2:]):
        return None
    kind = kinds.pop()
    if kind == "bilinear" and any(k == 1 for k in kernel):
        return None  # the N-D filler has a kernel on every axis the passes covered
    weight = Filler(type="bilinear") if kind == "bilinear" else Filler(type="constant", value=1.0)
    geometry = dict(kernel_shape=kernel, strides=strides, dilations=dilations, pads=begin + end)
    return _grouped_upsample(chain, graph, used + 1, back.output, r"\.planes(_\d+)?$", geometry, output_padding, weight)


_SWAP = (0, 1, 3, 2)


def _matmul_matrix(layer: Layer, graph: Graph) -> np.ndarray | None:
    """The ``(in, out)`` matrix of a bias-free InnerProduct on the last axis of a 3-D or 4-D input, else None."""
    if not isinstance(layer, InnerProduct) or layer.bias_term or not isinstance(layer.weight, Values):
        return None
    rank = len(graph.types[layer.input].shape)
    if rank not in (3, 4) or layer.canonical_axis(rank) != rank - 1:
        return None
    w = np.asarray(layer.weight.array, dtype=np.float64)
    return w if layer.transpose else w.T


def fuse_dense(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """:func:`dense_form` read back: [``Transpose`` (H, W) -> MatMul -> ``Transpose``] -> [MatMul] [-> ``Bias``],
    each MatMul an interpolation matrix of the same bilinear (or ones) kernel, upsampling at least one axis, is
    one grouped frozen Deconvolution with that filler, exactly (the matrices are compared whole)."""
    if not isinstance(chain[0], (Transpose, InnerProduct)):
        return None
    x = graph.types[chain[0].input]
    n = len(x.shape) - 2
    if n not in (1, 2):
        return None
    matrices: dict[int, np.ndarray] = {}
    used = 0
    if (
        n == 2
        and len(chain) >= 3
        and all(isinstance(t, Transpose) and t.perm == _SWAP for t in (chain[0], chain[2]))
        and (m := _matmul_matrix(chain[1], graph)) is not None
    ):
        matrices[0], used = m, 3
    if used < len(chain) and (m := _matmul_matrix(chain[used], graph)) is not None:
        matrices[n - 1], used = m, used + 1
    if not matrices:
        return None
    kernel, strides, begin, end, output_padding = [1] * n, [1] * n, [0] * n, [0] * n, [0] * n
    taps_of: dict[int, np.ndarray] = {}
    for a, m in matrices.items():
        found = read_interpolation_matrix(m)
        if found is None:
            return None
        taps, stride, pad = found
        size_in, size_out = m.shape
        full = (size_in - 1) * stride + len(taps) - pad
        kernel[a], strides[a], begin[a] = len(taps), stride, pad
        end[a], output_padding[a] = max(0, full - size_out), max(0, size_out - full)
        taps_of[a] = taps
    if all(s == 1 for s in strides):
        return None  # no upsampling: a MatMul is a MatMul
    if all(np.all(t == 1.0) for t in taps_of.values()):
        weight = Filler(type="constant", value=1.0)
    else:
        k2 = np.ones(tuple(kernel))
        for a, t in taps_of.items():
            shape = [1] * n
            shape[a] = len(t)
            k2 = k2 * t.reshape(shape)
        if np.max(np.abs(k2 - bilinear_kernel(tuple(kernel)))) > KERNEL_TOLERANCE:
            return None
        weight = Filler(type="bilinear")
    geometry = dict(kernel_shape=kernel, strides=strides, dilations=[1] * n, pads=begin + end)
    return _grouped_upsample(
        chain, graph, used, chain[used - 1].outputs[0], r"\.(swap|matmul)(_\d+)?$", geometry, output_padding, weight
    )


def _grouped_upsample(
    chain: list[Layer],
    graph: Graph,
    used: int,
    value: str,
    suffix: str,
    geometry: dict[str, list[int]],
    output_padding: list[int],
    weight: Filler,
) -> tuple[Layer, int]:
    """The one grouped frozen Deconvolution a fast form stands for (its first ``used`` layers of ``chain``, ending
    in ``value``), with a ``Bias`` after them folded in; named as the form's first layer less its ``suffix``."""
    x = graph.types[chain[0].inputs[0]]
    c = x.shape[1]
    bias = None
    if used < len(chain) and isinstance(chain[used], Bias):
        bias_layer = chain[used]
        assert isinstance(bias_layer, Bias)
        bias, value, used = bias_layer.bias_array(c, np.dtype(x.dtype)), bias_layer.output, used + 1
    name = re.sub(suffix, "", chain[0].name)
    fused = Deconvolution(
        name=name if all(other.name != name for other in graph.layers) else chain[0].name,
        input=chain[0].inputs[0],
        output=value,
        out_channels=c,
        group=c,
        kernel_shape=tuple(geometry["kernel_shape"]),
        strides=tuple(geometry["strides"]),
        dilations=tuple(geometry["dilations"]),
        padding=Padding(pads=tuple(geometry["pads"])),
        output_padding=tuple(output_padding),
        bias_term=bias is not None,
        weight=weight,
        bias=Values(array=bias) if bias is not None else None,
    )
    return fused, used


FUSIONS: dict[str, list[tuple[int, Fusion]]] = {"import": [(8, fuse_separable), (5, fuse_dense)]}
