"""Reference ONNX Conv (= Caffe Convolution with explicit pads) and Caffe InnerProduct in NumPy.

Two implementations of the convolution live here, as in :mod:`.conv_transpose`:

* :func:`conv_by_window` is the plain oracle, built from named steps: zero-pad the input, dilate the kernel
  (insert ``dilation - 1`` zeros between taps), then correlate: every output position is the dot product of the
  kernel with the input window under it, one group at a time, accumulated in float64.  Slow and obviously right.
* :func:`conv` is the fast path.  A 1x1 unstrided, unpadded layer is one batched GEMM on the flattened input.
  Depthwise-like layers (one input channel per group) multiply-add one strided input view per kernel tap, for
  blocks of channels on worker threads.  Everything else is im2col: the strided views of the padded input for all
  taps are stacked into a ``(C/group * prod(kernel), prod(out))`` matrix per group and multiplied by the weights in
  float32 GEMMs (BLAS threads them), the matrix built for a block of output rows at a time (``_IM2COL_ELEMENTS``).

Accumulation: onnxruntime's CPU Conv is im2col + an MLAS float32 GEMM, so the fast path accumulates in the input
dtype too.  Measured against onnxruntime 1.32: on small layers (the test table) the two agree bit for bit; on
576-term sums (64 channels, 3x3) both sit within ~4 float32 ulps of the output scale from the float64 value,
about 5e-7 relative apart.  Accumulating in float64 and rounding is not closer on the whole (2.4e-7 on that layer,
4.3e-7 against float32's 2.9e-7 on the 7x7 stem) and float64 GEMMs run at half the speed, so float32 it is; the
oracle accumulates in float64, as the exact value both are judged against.

Caffe's Convolution is the same operation with symmetric pads (``pad``, or ``pad_h``/``pad_w``) and
``out = floor((in + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1``
(:func:`convertkit.shapes.caffe_conv_output_size`).
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from convertkit import shapes
from convertkit.errors import ValidationError

from ._arguments import FLOAT_DTYPES, WindowGeometry, check_float_input, per_axis

__all__ = ["conv", "conv_by_window", "inner_product"]

#: Index prefix selecting every batch item and channel: ``x[_NC + spatial_index]``.
_NC: tuple[slice, slice] = (slice(None), slice(None))

#: Elements of the im2col matrix built at once (8 MiB of float32): several batch items when they are small, else
#: one item in blocks of output rows, the buffer reused.  FCN's conv1_2 (64 -> 64 on 273x259, a 163 MB matrix
#: whole) took 66-72 ms in one piece and 32 ms in 2.4M-element blocks (the same values to the bit there);
#: 0.6M: 37 ms, 9.6M: 45 ms.
_IM2COL_ELEMENTS = 1 << 21
#: A block is at least this many output positions wide: OpenBLAS sums a narrow GEMM's products in another order
#: (a 32-column block raised the error against the float64 oracle from 3.8 to 6.5 ulps) and runs it slower.
_MIN_BLOCK_COLUMNS = 256

#: Elementwise work (depthwise taps, pooling) of at least this many elements is split into blocks run on worker
#: threads (numpy releases the GIL in its loops); onnxruntime runs its kernels on intra-op threads too.  The
#: im2col GEMM is left to BLAS's own threads: Python threads on top of them oversubscribe the cores.
PARALLEL_MIN_ELEMENTS = 1 << 18
_WORKERS = min(4, os.cpu_count() or 1)
#: More blocks than threads: when another process holds a core, the free thread takes the remaining blocks
#: instead of waiting for the slowed one (pooling 1x64x112x112 on a shared 2-core VM: median a third lower than
#: with one block per thread, same best time).
_BLOCKS_PER_WORKER = 4
_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()

_T = TypeVar("_T")


def run_in_blocks(total: int, run: Callable[[int, int], _T], *, parallel: bool) -> list[_T]:
    """``run(start, stop)`` over blocks covering ``range(total)``: one block unless ``parallel``, else
    ``4 * threads`` blocks (at most ``total``) mapped on the shared worker threads.  Results in block order."""
    count = min(total, _BLOCKS_PER_WORKER * _WORKERS) if parallel and _WORKERS > 1 else 1
    bounds = [total * k // count for k in range(count + 1)]
    if count == 1:
        return [run(0, total)]
    return list(_executor().map(lambda k: run(bounds[k], bounds[k + 1]), range(count)))


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="convertkit-reference")
        return _EXECUTOR


# ----------------------------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------------------------


def conv(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None = None,
    *,
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    group: int = 1,
    kernel_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """ONNX Conv with explicit pads, N-D, grouped, dilated; the fast path.

    Parameters
    ----------
    x : numpy.ndarray
        Input ``(N, C, *spatial)``, float32 or float64, at least one spatial axis.
    w : numpy.ndarray
        Weights ``(M, C / group, *kernel)``; cast to ``x.dtype``.
    bias : numpy.ndarray, optional
        ``(M,)``; cast to ``x.dtype``.
    strides, dilations : sequence of int, optional
        One positive value per spatial axis; default all ones.
    pads : sequence of int, optional
        ``(begin_0, ..., begin_n, end_0, ..., end_n)``, non-negative; default zeros.
    group : int
        Must divide both ``C`` and ``M``.
    kernel_shape : sequence of int, optional
        When given it must equal ``w.shape[2:]`` (the ONNX attribute is redundant with the weight).

    Returns
    -------
    numpy.ndarray
        ``(N, M, *out)``, ``out = floor((in + pad_begin + pad_end - dilation * (kernel - 1) - 1) / stride) + 1``,
        dtype of ``x``.

    Raises
    ------
    convertkit.errors.ValidationError
        When an argument breaks a rule of the operator; the message names the rule and the values.
    """
    x, w, bias, g = _prepare(x, w, bias, strides, pads, dilations, group, kernel_shape)
    if all(k == 1 for k in g.kernel) and all(s == 1 for s in g.strides) and not any(g.pads_begin + g.pads_end):
        return _pointwise(x, w, bias, g)
    xp = _pad(x, g.pads_begin, g.pads_end)
    if g.in_per_group == 1:
        return _per_tap_multiply_add(xp, w, bias, g)
    return _im2col_gemm(xp, w, bias, g)


def conv_by_window(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None = None,
    *,
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    group: int = 1,
    kernel_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """ONNX Conv by its definition, window by window: the slow oracle for tests.

    Same parameters, result and errors as :func:`conv`.  Steps: zero-pad ``x`` by ``pads``; dilate the kernel;
    for every output position, the window of the padded input starting at ``position * stride`` times the dilated
    kernel, summed over the group's input channels and the window (in float64); add the bias.
    """
    x, w, bias, g = _prepare(x, w, bias, strides, pads, dilations, group, kernel_shape)
    padded = _pad(x, g.pads_begin, g.pads_end).astype(np.float64)
    kernel = _dilate_kernel(w.astype(np.float64), g.dilations)
    out = _correlate(padded, kernel, g)
    if bias is not None:
        out += bias.astype(np.float64).reshape((-1,) + (1,) * len(g.kernel))
    return out.astype(x.dtype)


def inner_product(
    x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, *, axis: int = 1, transpose: bool = False
) -> np.ndarray:
    """Caffe InnerProduct: flatten ``x`` from ``axis`` on, multiply by the weights, add the bias.

    ``x`` ``(d_0, ..., d_{axis-1}, d_axis, ...)`` is read as a matrix ``(prod(d_0..d_{axis-1}), K)`` with ``K``
    the product of the remaining axes; ``w`` is ``(num_output, K)`` (``transpose=False``, Caffe's default) or
    ``(K, num_output)``; the result is ``(d_0, ..., d_{axis-1}, num_output)``.  ONNX spells this
    ``Flatten(axis) -> Gemm(transB=1)`` (``transB=0`` for ``transpose``), plus a Reshape when ``axis > 1``.
    """
    x = np.asarray(x)
    if x.dtype not in FLOAT_DTYPES:
        raise ValidationError(f"InnerProduct: x must be float32 or float64, not {x.dtype}")
    if not -x.ndim <= axis < x.ndim:
        raise ValidationError(f"InnerProduct: axis {axis} is out of range for x of rank {x.ndim}")
    axis %= x.ndim
    w = np.asarray(w).astype(x.dtype, copy=False)
    rows = math.prod(x.shape[:axis])
    depth = math.prod(x.shape[axis:])
    if w.ndim != 2:
        raise ValidationError(f"InnerProduct: w must be 2-D, got shape {list(w.shape)}")
    weight = w.T if transpose else w  # (num_output, K)
    if weight.shape[1] != depth:
        layout = "(K, num_output)" if transpose else "(num_output, K)"
        raise ValidationError(
            f"InnerProduct: w is {layout} with K = prod(x.shape[{axis}:]) = {depth}, got shape {list(w.shape)}"
        )
    out = x.reshape(rows, depth) @ weight.T
    if bias is not None:
        b = np.asarray(bias).astype(x.dtype, copy=False)
        if b.size != weight.shape[0]:
            raise ValidationError(
                f"InnerProduct: bias must have num_output = {weight.shape[0]} values, got shape {list(b.shape)}"
            )
        out += b.reshape(1, -1)
    return out.reshape(*x.shape[:axis], weight.shape[0])


# ----------------------------------------------------------------------------------------------------------------
# Validation (shared by both implementations)
# ----------------------------------------------------------------------------------------------------------------


def _prepare(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None,
    strides: Sequence[int] | None,
    pads: Sequence[int] | None,
    dilations: Sequence[int] | None,
    group: int,
    kernel_shape: Sequence[int] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, WindowGeometry]:
    x = check_float_input("Conv", x)
    w = np.asarray(w)
    rank = x.ndim - 2
    if w.ndim != x.ndim:
        raise ValidationError(
            f"Conv: w must have the rank of x ({x.ndim}): (M, C/group, *kernel), got shape {list(w.shape)}"
        )
    kernel = tuple(int(k) for k in w.shape[2:])
    if any(k < 1 for k in kernel):
        raise ValidationError(f"Conv: kernel sizes must be >= 1, got w shape {list(w.shape)}")
    if kernel_shape is not None and tuple(int(k) for k in kernel_shape) != kernel:
        raise ValidationError(f"Conv: kernel_shape {list(kernel_shape)} must equal w.shape[2:] = {list(kernel)}")
    strides_t = per_axis("Conv", "strides", strides, rank, 1, minimum=1)
    dilations_t = per_axis("Conv", "dilations", dilations, rank, 1, minimum=1)
    pads_t = per_axis("Conv", "pads (begin..., end...)", pads, 2 * rank, 0, minimum=0)
    group = int(group)
    channels, out_channels = int(x.shape[1]), int(w.shape[0])
    if group < 1:
        raise ValidationError(f"Conv: group must be >= 1, got {group}")
    if channels % group:
        raise ValidationError(f"Conv: group={group} must divide the input channels C={channels}")
    if out_channels % group:
        raise ValidationError(f"Conv: group={group} must divide the output channels M=w.shape[0]={out_channels}")
    if int(w.shape[1]) * group != channels:
        raise ValidationError(
            f"Conv: w.shape[1] * group = {w.shape[1]} * {group} must equal the input channels C={channels} "
            "(w is (M, C/group, *kernel))"
        )
    if bias is not None:
        bias = np.asarray(bias)
        if bias.shape != (out_channels,):
            raise ValidationError(f"Conv: bias must have shape (M,) = ({out_channels},), got {list(bias.shape)}")
        bias = bias.astype(x.dtype, copy=False)
    input_spatial = tuple(int(i) for i in x.shape[2:])
    pads_begin, pads_end = pads_t[:rank], pads_t[rank:]
    output_spatial = tuple(
        shapes.conv_output_size(i, k, s, pb, pe, d)
        for i, k, s, pb, pe, d in zip(input_spatial, kernel, strides_t, pads_begin, pads_end, dilations_t, strict=True)
    )
    for axis, size in enumerate(output_spatial):
        if size < 1:
            raise ValidationError(
                f"Conv: output size of spatial axis {axis} is {size} < 1: floor((in + pad_begin + pad_end - "
                f"dilation*(kernel-1) - 1) / stride) + 1 = floor(({input_spatial[axis]} + {pads_begin[axis]} + "
                f"{pads_end[axis]} - {dilations_t[axis]}*({kernel[axis]}-1) - 1) / {strides_t[axis]}) + 1; "
                "the dilated kernel is larger than the padded input"
            )
    geometry = WindowGeometry(
        group=group,
        in_channels=channels,
        out_channels=out_channels,
        input_spatial=input_spatial,
        kernel=kernel,
        strides=strides_t,
        dilations=dilations_t,
        pads_begin=pads_begin,
        pads_end=pads_end,
        output_spatial=output_spatial,
    )
    return x, w.astype(x.dtype, copy=False), bias, geometry


# ----------------------------------------------------------------------------------------------------------------
# The oracle's steps
# ----------------------------------------------------------------------------------------------------------------


def _pad(x: np.ndarray, begin: tuple[int, ...], end: tuple[int, ...], value: float = 0.0) -> np.ndarray:
    """``x`` with ``begin[a]`` / ``end[a]`` cells of ``value`` before / after spatial axis ``a``."""
    if not any(begin + end):
        return x
    widths = [(0, 0), (0, 0), *zip(begin, end, strict=True)]
    return np.pad(x, widths, mode="constant", constant_values=value)


def _dilate_kernel(w: np.ndarray, dilations: tuple[int, ...]) -> np.ndarray:
    """The kernel with ``dilation - 1`` zeros between neighbouring taps along each spatial axis."""
    effective = tuple(shapes.effective_kernel(k, d) for k, d in zip(w.shape[2:], dilations, strict=True))
    dilated = np.zeros(w.shape[:2] + effective, dtype=w.dtype)
    dilated[_NC + tuple(slice(None, None, d) for d in dilations)] = w
    return dilated


def _correlate(padded: np.ndarray, kernel: np.ndarray, g: WindowGeometry) -> np.ndarray:
    """Every output position: the dot product of each group's kernels with the window under them."""
    batch = padded.shape[0]
    out = np.zeros((batch, g.out_channels, *g.output_spatial), dtype=padded.dtype)
    window_shape = kernel.shape[2:]
    reduce_axes = tuple(range(1, kernel.ndim))  # (C/group, *kernel)
    for position in itertools.product(*(range(o) for o in g.output_spatial)):
        corner = [p * s for p, s in zip(position, g.strides, strict=True)]
        window = padded[_NC + tuple(slice(c, c + k) for c, k in zip(corner, window_shape, strict=True))]
        for group in range(g.group):
            inputs = window[:, group * g.in_per_group : (group + 1) * g.in_per_group]
            kernels = kernel[group * g.out_per_group : (group + 1) * g.out_per_group]
            value = np.tensordot(inputs, kernels, axes=(reduce_axes, reduce_axes))  # (N, M/group)
            out[(slice(None), slice(group * g.out_per_group, (group + 1) * g.out_per_group)) + position] = value
    return out


# ----------------------------------------------------------------------------------------------------------------
# The fast path
# ----------------------------------------------------------------------------------------------------------------


def _tap_view(
    xp: np.ndarray, tap: tuple[int, ...], g: WindowGeometry, rows: tuple[int, int] | None = None
) -> np.ndarray:
    """The padded input cells that kernel tap ``tap`` multiplies, for every output position (or for the output
    rows ``rows = (first, stop)`` of the first spatial axis): a strided view."""
    starts, counts = [0] * len(tap), list(g.output_spatial)
    if rows is not None:
        starts[0], counts[0] = rows[0], rows[1] - rows[0]
    index = tuple(
        slice(t * d + s * b, t * d + s * (b + o - 1) + 1, s)
        for t, d, s, b, o in zip(tap, g.dilations, g.strides, starts, counts, strict=True)
    )
    return xp[_NC + index]


def _add_bias(out: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    if bias is not None:
        out += bias.reshape((-1,) + (1,) * (out.ndim - 2))
    return out


def _pointwise(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, g: WindowGeometry) -> np.ndarray:
    """1x1 kernel, stride 1, no pads: ``(group, M/g, C/g) @ (N, group, C/g, L)`` on the flattened input."""
    batch = x.shape[0]
    flat = x.reshape(batch, g.group, g.in_per_group, -1)
    weights = w.reshape(g.group, g.out_per_group, g.in_per_group)
    out = np.matmul(weights, flat).reshape(batch, g.out_channels, *g.output_spatial)
    return _add_bias(out, bias)


def _per_tap_multiply_add(xp: np.ndarray, w: np.ndarray, bias: np.ndarray | None, g: WindowGeometry) -> np.ndarray:
    """One input channel per group (depthwise, or depthwise with a channel multiplier).

    A GEMM per group would be ``(M/g, prod(kernel)) @ (prod(kernel), L)`` with a tiny inner dimension, so instead
    each output channel adds ``w[m, 0, tap] * view(tap)[input channel of m]`` over the taps, for blocks of output
    channels in parallel.
    """
    batch = xp.shape[0]
    if g.out_per_group > 1:  # output channel m reads input channel m // (M/g)
        xp = np.repeat(xp, g.out_per_group, axis=1)
    taps = w.reshape(g.out_channels, -1)
    out = np.empty((batch, g.out_channels, *g.output_spatial), dtype=xp.dtype)

    def channels(first: int, stop: int) -> None:
        block = out[:, first:stop]
        product = np.empty_like(block)
        shape = (1, stop - first) + (1,) * len(g.kernel)
        for j, tap in enumerate(itertools.product(*(range(k) for k in g.kernel))):
            weight = taps[first:stop, j].reshape(shape)
            view = _tap_view(xp[:, first:stop], tap, g)
            if j == 0:
                np.multiply(view, weight, out=block)
            else:
                np.multiply(view, weight, out=product)
                block += product

    run_in_blocks(g.out_channels, channels, parallel=out.size * len(taps[0]) >= PARALLEL_MIN_ELEMENTS)
    return _add_bias(out, bias)


def _im2col_gemm(xp: np.ndarray, w: np.ndarray, bias: np.ndarray | None, g: WindowGeometry) -> np.ndarray:
    """Stack every tap's strided view into ``cols`` ``(N, group, C/g * K, L)``, then one GEMM per group.

    Row ``c * K + tap`` of ``cols`` is channel ``c`` under kernel tap ``tap`` (row-major over the kernel), which
    is the order of ``w.reshape(M, C/g * K)``.  ``cols`` is built for at most ``_IM2COL_ELEMENTS`` at a time:
    several whole items, or one item's block of output rows (its columns ``L``), each GEMM writing its columns
    of the output.  BLAS may order a block's sums differently from the whole matrix's (its kernels depend on the
    width): the values agree within float32 rounding, not always to the bit.
    """
    batch = xp.shape[0]
    kernel_size = math.prod(g.kernel)
    length = math.prod(g.output_spatial)
    weights = w.reshape(g.group, g.out_per_group, g.in_per_group * kernel_size)
    # Without groups the bias rides in the GEMM as one more column of the weights against a row of ones: no
    # second pass over the output (on FCN's stem, K = 27, that pass cost as much as half the GEMM).  Only where
    # the weights are no larger than the output: the extra column copies the weights, and on FCN's fc6
    # (4096x25088 weights, 9 outputs per channel) that copy took 94 of the layer's 133 ms.
    folded = bias is not None and g.group == 1 and weights.size <= batch * g.out_channels * length
    if folded:
        assert bias is not None
        weights = np.concatenate([weights, bias.astype(xp.dtype).reshape(1, -1, 1)], axis=2)
    rows = g.in_channels * kernel_size + int(folded)
    out = np.empty((batch, g.group, g.out_per_group, length), dtype=xp.dtype)
    out_rows = g.output_spatial[0]
    inner = length // out_rows  # output positions per row of the first spatial axis
    if rows * length <= _IM2COL_ELEMENTS:  # whole items, several per GEMM
        step = _IM2COL_ELEMENTS // (rows * length)
        pieces = [(first, min(first + step, batch), 0, out_rows) for first in range(0, batch, step)]
    else:  # one item at a time, in blocks of output rows
        span = max(1, _IM2COL_ELEMENTS // (rows * inner), -(-_MIN_BLOCK_COLUMNS // inner))
        pieces = [(n, n + 1, r, min(r + span, out_rows)) for n in range(batch) for r in range(0, out_rows, span)]
    buffer = np.empty(max((b - a) * rows * (r1 - r0) * inner for a, b, r0, r1 in pieces), dtype=xp.dtype)
    for a, b, r0, r1 in pieces:
        n, width = b - a, (r1 - r0) * inner
        cols = buffer[: n * rows * width].reshape(n, rows, width)
        taps = cols[:, : g.in_channels * kernel_size].reshape(
            n, g.in_channels, kernel_size, r1 - r0, *g.output_spatial[1:]
        )
        for j, tap in enumerate(itertools.product(*(range(k) for k in g.kernel))):
            taps[:, :, j] = _tap_view(xp[a:b], tap, g, (r0, r1))
        if folded:
            cols[:, -1] = 1
        np.matmul(
            weights, cols.reshape(n, g.group, rows // g.group, width), out=out[a:b, :, :, r0 * inner : r1 * inner]
        )
    if folded:
        return out.reshape(batch, g.out_channels, *g.output_spatial)
    return _add_bias(out.reshape(batch, g.out_channels, *g.output_spatial), bias)
