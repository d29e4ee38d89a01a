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
- linear align_corners Upsample with integer zoom ``z >= 16`` per axis (sizes ``z * (in - 1) + 1``): the
  triangle recipe (kernel ``2z - 1``, stride ``z``, pad ``z - 1``), then separable.
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
from ..layers.pad import Pad
from ..layers.reshape import Reshape
from ..layers.upsample import Upsample
from . import ExportOptions, Fusion, Graph, Lowering

__all__ = ["Analysis", "analyse", "choose_form", "separable_form", "LOWERINGS", "OPTIMIZE_CHOICES"]

OPTIMIZE_CHOICES: tuple[str, ...] = ("speed", "none")
#: Smallest align-corners zoom whose separable form beats Resize: at z8 the two measured 0.96-1.3x (noise), at
#: x16 the windowed form ran 1.4x faster than Resize (benchmarks/bench_forms.py).
ALIGN_CORNERS_MIN_ZOOM = 16
#: Smallest stride whose last (biggest) pass runs faster as windows + 1-D Conv than as a ConvTranspose
#: (benchmarks/bench_forms.py, ``windowed``: equal at x8, 2.3x at x16, 2.6x at x32).
WINDOWED_MIN_STRIDE = 16
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
    """``separable``, ``resize``, ``triangle`` (align-corners Upsample -> recipe) or ``literal``: the form to emit.

    The one decision point (see the module docstring for the measurements).  The forms were measured in
    onnxruntime, and the separable form's 1-D ConvTranspose passes are a form OpenCV's ONNX importer refuses
    (:mod:`convertkit.portability`), so only ``--target onnxruntime`` gets them: for ``portable`` (the default) and
    the other runtimes the literal form stays (where speed and portability pull apart, the target decides).
    """
    if options.optimize != "speed" or options.runtime != "onnxruntime":
        return "literal"
    if isinstance(layer, Upsample):
        zooms = _align_corners_zooms(layer, x)
        if zooms is not None and all(z >= ALIGN_CORNERS_MIN_ZOOM for z in zooms):
            return "triangle"
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
    return "separable"


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
    passes = [
        a
        for a in reversed(range(n))
        if not (
            geo.kernel_shape[a] == 1
            and geo.strides[a] == 1
            and not geo.pads[a]
            and not geo.pads[n + a]
            and not geo.output_padding[a]
        )
    ]
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
    if form == "separable":
        found = analyse(layer, x)
        assert found is not None
        return separable_form(layer, x, graph, found.kernel)
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
    used += 1
    bias, value = None, back.output
    if used < len(chain) and isinstance(chain[used], Bias):
        bias_layer = chain[used]
        assert isinstance(bias_layer, Bias)
        bias, value, used = bias_layer.bias_array(c, np.dtype(x.dtype)), bias_layer.output, used + 1
    kind = kinds.pop()
    if kind == "bilinear" and any(k == 1 for k in kernel):
        return None  # the N-D filler has a kernel on every axis the passes covered
    name = re.sub(r"\.planes(_\d+)?$", "", chain[0].name)
    fused = Deconvolution(
        name=name if all(other.name != name for other in graph.layers) else chain[0].name,
        input=chain[0].input,
        output=value,
        out_channels=c,
        group=c,
        kernel_shape=tuple(kernel),
        strides=tuple(strides),
        dilations=tuple(dilations),
        padding=Padding(pads=tuple(begin + end)),
        output_padding=tuple(output_padding),
        bias_term=bias is not None,
        weight=Filler(type="bilinear") if kind == "bilinear" else Filler(type="constant", value=1.0),
        bias=Values(array=bias) if bias is not None else None,
    )
    return fused, used


FUSIONS: dict[str, list[tuple[int, Fusion]]] = {"import": [(8, fuse_separable)]}
