"""Reference pooling in NumPy: Caffe Pooling and ONNX MaxPool / AveragePool / Global*, their argmax masks,
max-unpooling, and the rule that says when a Caffe pooling is exactly an ONNX one.

Two conventions, one window model.  Along each spatial axis, output ``o`` pools the taps
``o * stride - pad_begin + j * dilation`` (``j < kernel``); the conventions differ in how many outputs there are
and what an average divides by:

* **Caffe** (``src/caffe/layers/pooling_layer.cpp``, BVLC): ``out = ceil((in + 2 * pad - kernel) / stride) + 1``,
  minus one when the layer pads (on any axis: Caffe tests ``pad_h || pad_w``) and the last window starts in the
  padding or past the input; AVE divides by the window clipped to
  ``[-pad, in + pad)`` (padded cells count, the ceil overhang past them does not); MAX ignores padding.
  Caffe's Pooling is 2-D; the functions here take any number of spatial axes with the same rule per axis.
* **ONNX** (as onnxruntime and ``onnx.reference`` compute it): ``floor`` or, with ``ceil_mode``, ``ceil``, then
  the last window dropped when it starts at or past ``in + pad_begin`` (with or without padding); AveragePool
  divides by the taps inside ``[0, in)`` (``count_include_pad=0``) or inside ``[-pad_begin, in + pad_end)``
  (``count_include_pad=1``: the ceil overhang past the end pad does not count either).

So Caffe's pooling is ONNX's with ``pads = (pad, pad)``, ``ceil_mode=1`` and ``count_include_pad=1``, except
where an unpadded Caffe layer keeps a window that starts past the input (``stride > kernel``) and pools it empty:
MAX gives ``-FLT_MAX`` (mask -1), AVE ``0 / (negative or zero size)``, i.e. -0.0, 0.0 or NaN.
:func:`caffe_pooling_as_onnx` returns the ONNX form, also without ``ceil_mode`` (ONNX opsets < 10), where the
divisor then needs a correction map.

The ``*_by_window`` functions are the plain oracles: a loop over output positions that slices each window.
The fast paths pad once (``-inf`` for max, zeros for sums) far enough for every tap, then combine one strided
view per kernel tap, in kernel row-major order, which is the order Caffe's loops visit a window's cells: a
Caffe sum is accumulated in the same order (so Caffe AVE is bit for bit Caffe's arithmetic), and an argmax keeps
the first maximum, as Caffe's and onnxruntime's strict ``>`` do.  A max without the argmax, and an ONNX average,
reduce one axis at a time instead (``k_h + k_w`` passes, not ``k_h * k_w``): the same values for the max, another
(equally valid) order of additions for the average.  That max pads nothing: each tap reads only the outputs whose
cell is in the input, the first spatial axis goes first, and it runs on the calling thread (memory-bound: worker
threads measured slower).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from convertkit import shapes
from convertkit.errors import UnsupportedError, ValidationError

from . import convolution
from ._arguments import check_float_input, per_axis
from .convolution import _NC, run_in_blocks

__all__ = [
    # Caffe Pooling
    "caffe_pool",
    "caffe_max_pool_with_mask",
    "caffe_pool_by_window",
    "caffe_pool_divisors",
    # ONNX pooling
    "max_pool",
    "max_pool_with_indices",
    "max_pool_by_window",
    "average_pool",
    "average_pool_by_window",
    "onnx_pool_divisors",
    "global_max_pool",
    "global_average_pool",
    # Masks and unpooling
    "caffe_mask_to_onnx_indices",
    "onnx_indices_to_caffe_mask",
    "max_unpool",
    "caffe_max_unpool",
    # Caffe <-> ONNX
    "CaffePooling",
    "OnnxPooling",
    "caffe_pooling_as_onnx",
    "caffe_pooling_equals_onnx",
]

#: Caffe's MAX pooling starts every output at ``-FLT_MAX`` (``caffe_set(top_count, Dtype(-FLT_MAX), top_data)``),
#: for float and double nets alike; a window with no cell keeps it.
CAFFE_MAX_INIT = float(np.finfo(np.float32).min)

_POOL_METHODS = ("MAX", "AVE")
_ROUND_MODES = ("CEIL", "FLOOR")


# ----------------------------------------------------------------------------------------------------------------
# The window model: one spatial axis
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Axis:
    """The windows along one spatial axis: output ``o`` reads taps ``o * stride - pad_begin + j * dilation``."""

    size: int
    kernel: int
    stride: int
    pad_begin: int
    pad_end: int
    count: int
    dilation: int = 1

    def start(self, o: int) -> int:
        return o * self.stride - self.pad_begin

    def taps(self, o: int) -> range:
        start = self.start(o)
        return range(start, start + self.dilation * (self.kernel - 1) + 1, self.dilation)

    def tap_outputs(self, j: int) -> tuple[int, int, int]:
        """``(lo, hi, offset)``: tap ``j`` reads input ``o * stride + offset``, in the input for ``lo <= o < hi``."""
        offset = j * self.dilation - self.pad_begin
        lo = 0 if offset >= 0 else (self.stride - 1 - offset) // self.stride
        hi = min(self.count, (self.size - 1 - offset) // self.stride + 1) if offset < self.size else 0
        return lo, max(lo, hi), offset

    def real_taps(self, o: int) -> list[int]:
        """The taps of window ``o`` that fall on the input, ``[0, size)``."""
        return [t for t in self.taps(o) if 0 <= t < self.size]

    @property
    def padded_extent(self) -> tuple[int, int]:
        """Cells to add before / after the input so that every tap of every window reads in bounds."""
        last = self.start(self.count - 1) + self.dilation * (self.kernel - 1)
        return self.pad_begin, max(0, last + 1 - self.size)


def _window_cells(axes: Sequence[_Axis], position: tuple[int, ...]) -> tuple[list[int], ...]:
    return tuple(axis.real_taps(o) for axis, o in zip(axes, position, strict=True))


def _positions(axes: Sequence[_Axis]) -> Iterator[tuple[int, ...]]:
    return itertools.product(*(range(axis.count) for axis in axes))


def _outer(per_axis_values: Sequence[np.ndarray]) -> np.ndarray:
    """``out[o_0, ..., o_n] = prod_a values[a][o_a]``: a separable per-position map from per-axis vectors."""
    out = np.ones((), dtype=np.int64)
    for values in per_axis_values:
        out = np.multiply.outer(out, np.asarray(values, dtype=np.int64))
    return out


# ----------------------------------------------------------------------------------------------------------------
# Caffe Pooling
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CaffeConfig:
    pool: str
    axes: tuple[_Axis, ...]


def _caffe_config(
    x: np.ndarray,
    pool: str,
    kernel_shape: Sequence[int] | None,
    strides: Sequence[int] | None,
    pads: Sequence[int] | None,
    global_pooling: bool,
    round_mode: str,
) -> _CaffeConfig:
    op = "Caffe Pooling"
    if pool not in _POOL_METHODS:
        raise ValidationError(f"{op}: pool must be MAX or AVE (STOCHASTIC has no inference rule), not {pool!r}")
    if round_mode not in _ROUND_MODES:
        raise ValidationError(f"{op}: round_mode must be CEIL or FLOOR, not {round_mode!r}")
    spatial = tuple(int(i) for i in x.shape[2:])
    rank = len(spatial)
    if global_pooling:
        # pooling_layer.cpp LayerSetUp: "With Global_pooling: true Filter size cannot specified", and
        # "only pad = 0 and stride = 1".
        if kernel_shape is not None:
            raise ValidationError(f"{op}: global_pooling takes its kernel from the input; got kernel {kernel_shape}")
        if (pads is not None and any(pads)) or (strides is not None and any(s != 1 for s in strides)):
            raise ValidationError(f"{op}: global_pooling needs pad 0 and stride 1, got pads {pads} strides {strides}")
        kernel, strides_t, pads_t = spatial, (1,) * rank, (0,) * (2 * rank)
    else:
        if kernel_shape is None:
            raise ValidationError(f"{op}: kernel_shape is required unless global_pooling")
        kernel = per_axis(op, "kernel_shape", kernel_shape, rank, 1, minimum=1)
        strides_t = per_axis(op, "strides", strides, rank, 1, minimum=1)
        pads_t = per_axis(op, "pads (begin..., end...)", pads, 2 * rank, 0, minimum=0)
    begin, end = pads_t[:rank], pads_t[rank:]
    if begin != end:
        raise ValidationError(
            f"{op}: Caffe pads symmetrically (pad, or pad_h / pad_w); pads begin {list(begin)} != end {list(end)}"
        )
    if any(p >= k for p, k in zip(begin, kernel, strict=True)):
        # pooling_layer.cpp: CHECK_LT(pad_h_, kernel_h_)
        raise ValidationError(f"{op}: pad must be smaller than the kernel, got pad {list(begin)} kernel {list(kernel)}")
    axes = []
    padded = any(begin)  # Caffe drops a last window starting past the input on every axis of a padded layer
    for a, (i, k, s, p) in enumerate(zip(spatial, kernel, strides_t, begin, strict=True)):
        count = shapes.caffe_pool_output_size(i, k, s, p, round_mode, padded)
        if count < 1:
            raise ValidationError(
                f"{op}: output size of spatial axis {a} is {count} < 1: "
                f"{round_mode.lower()}((in + 2*pad - kernel) / stride) + 1 with in={i} pad={p} kernel={k} stride={s}"
            )
        axes.append(_Axis(size=i, kernel=k, stride=s, pad_begin=p, pad_end=p, count=count))
    return _CaffeConfig(pool, tuple(axes))


def _caffe_axis_divisors(axis: _Axis) -> np.ndarray:
    # pooling_layer.cpp, Forward_cpu, case PoolingParameter_PoolMethod_AVE (BVLC caffe):
    #   hend = min(hstart + kernel_h_, height_ + pad_h_); pool_size = (hend - hstart) * (wend - wstart);
    # computed before hstart is clamped to 0: padded cells count, the ceil overhang past in + pad does not.
    # In an unpadded layer a window starting past the input has extent <= 0 (kept as Caffe computes it).
    starts = np.array([axis.start(o) for o in range(axis.count)], dtype=np.int64)
    ends = np.minimum(starts + axis.kernel, axis.size + axis.pad_end)
    return ends - starts


def _caffe_divisor_map(axes: Sequence[_Axis]) -> np.ndarray:
    """``(*out)`` int64: what Caffe AVE divides each output by, the product of the per-axis window extents."""
    return _outer([_caffe_axis_divisors(axis) for axis in axes])


def caffe_pool_divisors(
    input_spatial: Sequence[int],
    *,
    kernel_shape: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    global_pooling: bool = False,
    round_mode: str = "CEIL",
) -> np.ndarray:
    """What Caffe's AVE pooling divides each output by: ``(*out)`` int64, the product of per-axis extents
    ``min(start + kernel, in + pad) - start`` with ``start = o * stride - pad`` (may be <= 0 for an empty window)."""
    probe = _probe(input_spatial)
    config = _caffe_config(probe, "AVE", kernel_shape, strides, pads, global_pooling, round_mode)
    return _caffe_divisor_map(config.axes)


def caffe_pool(
    x: np.ndarray,
    *,
    pool: str = "MAX",
    kernel_shape: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    global_pooling: bool = False,
    round_mode: str = "CEIL",
) -> np.ndarray:
    """Caffe Pooling (MAX or AVE), fast path.

    Parameters
    ----------
    x : numpy.ndarray
        ``(N, C, *spatial)``, float32 or float64.  Caffe's own layer is 2-D (``(N, C, H, W)``).
    pool : {"MAX", "AVE"}
    kernel_shape : sequence of int
        One per spatial axis (Caffe's ``kernel_size`` or ``kernel_h`` / ``kernel_w``); not with ``global_pooling``.
    strides : sequence of int, optional
        One per spatial axis, default 1.
    pads : sequence of int, optional
        ONNX layout ``(begin..., end...)``; Caffe pads symmetrically, so begin must equal end, and each pad must be
        smaller than its kernel (Caffe CHECKs both).  Default 0.
    global_pooling : bool
        Pool the whole plane (kernel = input size, pad 0, stride 1).
    round_mode : {"CEIL", "FLOOR"}
        Caffe's default rounds the output size up (:func:`convertkit.shapes.caffe_pool_output_size`).

    Returns
    -------
    numpy.ndarray
        ``(N, C, *out)`` in ``x.dtype``.
    """
    x = check_float_input("Caffe Pooling", x)
    config = _caffe_config(x, pool, kernel_shape, strides, pads, global_pooling, round_mode)
    if config.pool == "MAX":
        return _fast_max(x, config.axes, CAFFE_MAX_INIT, with_plane_index=False)[0]
    divisors = _caffe_divisor_map(config.axes)
    total = _fast_sum(x, config.axes)
    with np.errstate(divide="ignore", invalid="ignore"):  # an empty window divides 0 by <= 0, as Caffe does
        return np.divide(total, divisors.astype(x.dtype), out=total)


def caffe_max_pool_with_mask(
    x: np.ndarray,
    *,
    kernel_shape: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    global_pooling: bool = False,
    round_mode: str = "CEIL",
) -> tuple[np.ndarray, np.ndarray]:
    """Caffe MAX Pooling with its second top, the mask: ``(pooled, mask)``.

    ``mask[n, c, o...]`` is the index of the window's maximum within its own ``(n, c)`` plane, row-major
    (``h * width + w`` in 2-D), the first maximum in scan order on ties; -1 for an empty window (whose value
    is ``-FLT_MAX``).  Caffe stores it in a float blob; here it is int64.  SegNet's Upsample reads it back
    (:func:`caffe_max_unpool`); :func:`caffe_mask_to_onnx_indices` turns it into ONNX MaxPool Indices.
    """
    x = check_float_input("Caffe Pooling", x)
    config = _caffe_config(x, "MAX", kernel_shape, strides, pads, global_pooling, round_mode)
    pooled, mask = _fast_max(x, config.axes, CAFFE_MAX_INIT, with_plane_index=True)
    assert mask is not None
    return pooled, mask


def caffe_pool_by_window(
    x: np.ndarray,
    *,
    pool: str = "MAX",
    kernel_shape: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    global_pooling: bool = False,
    round_mode: str = "CEIL",
) -> tuple[np.ndarray, np.ndarray | None]:
    """Caffe Pooling window by window, as ``pooling_layer.cpp`` loops: the oracle.  Returns ``(pooled, mask)``,
    ``mask`` (int64) for MAX and None for AVE; same parameters as :func:`caffe_pool`.

    MAX: start at ``-FLT_MAX``, scan the window's cells inside the input row-major, keep a cell that is strictly
    greater.  AVE: sum the cells inside the input, divide by the window clipped to ``[-pad, in + pad)``.
    """
    x = check_float_input("Caffe Pooling", x)
    config = _caffe_config(x, pool, kernel_shape, strides, pads, global_pooling, round_mode)
    axes = config.axes
    out_shape = (*x.shape[:2], *(axis.count for axis in axes))
    out = np.empty(out_shape, dtype=x.dtype)
    mask = np.full(out_shape, -1, dtype=np.int64) if config.pool == "MAX" else None
    for position in _positions(axes):
        cells = _window_cells(axes, position)
        window = x[_NC + np.ix_(*cells)] if all(len(c) for c in cells) else None
        target = _NC + position
        if config.pool == "MAX":
            assert mask is not None
            out[target] = CAFFE_MAX_INIT
            if window is None:
                continue
            out[target], mask[target] = _window_max(x, cells, CAFFE_MAX_INIT, "C")
        else:
            total = np.zeros(x.shape[:2], dtype=x.dtype)
            if window is not None:
                for cell in window.reshape(*x.shape[:2], -1).transpose(2, 0, 1):  # scan order, one add at a time
                    total += cell
            divisor = math.prod(int(_caffe_axis_divisors(axis)[o]) for axis, o in zip(axes, position, strict=True))
            with np.errstate(divide="ignore", invalid="ignore"):
                out[target] = total / x.dtype.type(divisor)
    return out, mask


def _window_max(
    x: np.ndarray, cells: tuple[list[int], ...], init: float, order: Literal["C", "F"]
) -> tuple[np.ndarray, np.ndarray]:
    """One non-empty window's maximum per ``(n, c)`` (``init`` when no cell beats it) and its plane index
    (row-major, or column-major for ``order='F'``; -1 when no cell beats ``init``): the first maximum in scan order."""
    flat = x[_NC + np.ix_(*cells)].reshape(*x.shape[:2], -1)
    best = _first_strict_max(flat, init)
    found = best >= 0
    chosen = np.take_along_axis(flat, np.maximum(best, 0)[..., None], axis=-1)[..., 0]
    cell_coords = np.unravel_index(np.maximum(best, 0), tuple(len(c) for c in cells))
    coords = tuple(np.asarray(c)[k] for c, k in zip(cells, cell_coords, strict=True))
    plane_index = np.ravel_multi_index(coords, x.shape[2:], order=order)
    return np.where(found, chosen, init), np.where(found, plane_index, -1)


def _first_strict_max(flat: np.ndarray, init: float) -> np.ndarray:
    """Index of the first cell (last axis) strictly greater than everything before it and ``init``; -1 if none."""
    best_value = np.full(flat.shape[:-1], init, dtype=flat.dtype)
    best = np.full(flat.shape[:-1], -1, dtype=np.int64)
    for k in range(flat.shape[-1]):
        better = flat[..., k] > best_value
        best_value = np.where(better, flat[..., k], best_value)
        best = np.where(better, k, best)
    return best


# ----------------------------------------------------------------------------------------------------------------
# The fast paths, shared by both conventions
# ----------------------------------------------------------------------------------------------------------------


def _padded(x: np.ndarray, axes: Sequence[_Axis], value: float) -> np.ndarray:
    extents = [axis.padded_extent for axis in axes]
    if not any(b or e for b, e in extents):
        return x
    padded = np.empty(x.shape[:2] + tuple(b + i + e for (b, e), i in zip(extents, x.shape[2:], strict=True)), x.dtype)
    interior = tuple(slice(b, b + i) for (b, _e), i in zip(extents, x.shape[2:], strict=True))
    padded[_NC + interior] = x
    for a, ((b, _e), i) in enumerate(zip(extents, x.shape[2:], strict=True)):  # only the border is filled
        lead = _NC + (slice(None),) * a
        padded[lead + (slice(0, b),)] = value
        padded[lead + (slice(b + i, None),)] = value
    return padded


def _taps(axes: Sequence[_Axis]) -> Iterator[tuple[int, ...]]:
    return itertools.product(*(range(axis.kernel) for axis in axes))


def _tap_view(padded: np.ndarray, axes: Sequence[_Axis], tap: tuple[int, ...]) -> np.ndarray:
    """Tap ``tap`` of every window at once: in padded coordinates window ``o`` starts at ``o * stride``."""
    index = tuple(
        slice(j * axis.dilation, j * axis.dilation + axis.stride * (axis.count - 1) + 1, axis.stride)
        for axis, j in zip(axes, tap, strict=True)
    )
    return padded[_NC + index]


def _tap_plane_index(
    axes: Sequence[_Axis], tap: tuple[int, ...], plane_shape: tuple[int, ...], order: Literal["C", "F"]
) -> np.ndarray:
    """``(*out)`` int64: the plane index (row-major, or column-major for ``order='F'``) that tap ``tap`` reads."""
    coords = [
        np.arange(axis.count, dtype=np.int64) * axis.stride - axis.pad_begin + j * axis.dilation
        for axis, j in zip(axes, tap, strict=True)
    ]
    grids = np.meshgrid(*coords, indexing="ij")
    clipped = [np.clip(g, 0, size - 1) for g, size in zip(grids, plane_shape, strict=True)]
    return np.ravel_multi_index(tuple(clipped), plane_shape, order=order)


def _over_plane_blocks(
    x: np.ndarray, compute: Callable[[np.ndarray], tuple[np.ndarray | None, ...]]
) -> tuple[np.ndarray | None, ...]:
    """``compute(x)``, run on blocks of the ``N * C`` planes in parallel for large inputs.

    Pooling never mixes planes, and a plane index does not depend on the plane, so the blocks' results
    (arrays, or None) are joined along the plane axis unchanged.
    """
    planes = x.shape[0] * x.shape[1]
    flat = x.reshape(1, planes, *x.shape[2:])
    results = run_in_blocks(
        planes, lambda a, b: compute(flat[:, a:b]), parallel=planes > 1 and x.size >= convolution.PARALLEL_MIN_ELEMENTS
    )
    if len(results) == 1:
        return tuple(None if r is None else r.reshape(x.shape[:2] + r.shape[2:]) for r in results[0])
    joined: list[np.ndarray | None] = []
    for part in zip(*results, strict=True):
        if part[0] is None:
            joined.append(None)
            continue
        whole = np.concatenate(part, axis=1)
        joined.append(whole.reshape(x.shape[:2] + whole.shape[2:]))
    return tuple(joined)


def _fast_max(
    x: np.ndarray, axes: Sequence[_Axis], init: float, *, with_plane_index: bool, order: Literal["C", "F"] = "C"
) -> tuple[np.ndarray, np.ndarray | None]:
    """The window maxima (and the argmax plane indices, in parallel plane blocks: :func:`_block_max`).

    Without indices the maxima are a few whole-tensor passes (:func:`_separable_max`), memory-bound: splitting them
    over threads measured no faster (1x64x112x112 k3 s2 p1: 0.64 ms serial, 0.75 ms on 2 threads).
    """
    if not with_plane_index:
        return _separable_max(x, axes, init), None
    pooled, index = _over_plane_blocks(x, lambda block: _block_max(block, axes, init, order))
    assert pooled is not None
    return pooled, index


def _block_max(
    x: np.ndarray, axes: Sequence[_Axis], init: float, order: Literal["C", "F"] = "C"
) -> tuple[np.ndarray, np.ndarray]:
    """Running maximum and its plane index over the taps of a ``-inf``-padded input, starting from ``init``.

    Padded cells are ``-inf`` and never beat ``init``; a tap replaces the running value only when strictly greater
    (NaN never does), so ties keep the first cell in scan order, as Caffe's and onnxruntime's loops do.
    """
    padded = _padded(x, axes, -np.inf)
    out = np.full((*x.shape[:2], *(axis.count for axis in axes)), init, dtype=x.dtype)
    index = np.full(out.shape, -1, dtype=np.int64)
    better = np.empty(out.shape, dtype=bool)
    for tap in _taps(axes):
        view = _tap_view(padded, axes, tap)
        np.greater(view, out, out=better)
        np.copyto(out, view, where=better)
        np.copyto(index, _tap_plane_index(axes, tap, x.shape[2:], order), where=better)
    return out, index


def _separable(padded: np.ndarray, axes: Sequence[_Axis], combine: np.ufunc) -> np.ndarray:
    """Combine each window's taps one axis at a time, last axis first: ``k_0 + k_1 + ...`` passes over the data
    instead of the ``k_0 * k_1 * ...`` of one pass per tap.  Always a fresh array (every axis is reduced)."""
    reduced = padded
    for a in reversed(range(len(axes))):
        axis = axes[a]
        lead = (slice(None),) * (2 + a)
        span = axis.stride * (axis.count - 1) + 1
        taps = [
            reduced[lead + (slice(j * axis.dilation, j * axis.dilation + span, axis.stride),)]
            for j in range(axis.kernel)
        ]
        out = taps[0].copy() if len(taps) == 1 else combine(taps[0], taps[1])
        for tap in taps[2:]:
            combine(out, tap, out=out)
        reduced = out
    return reduced


def _separable_max(x: np.ndarray, axes: Sequence[_Axis], init: float) -> np.ndarray:
    """The window maximum one axis at a time, first spatial axis first, then against ``init``; no padded copy.

    A maximum over a box is the maximum over its rows of the row maxima; ``fmax`` ignores NaN as a strict ``>``
    test does, and a padded cell (here: a tap outside the input, skipped) never beats ``init``: the values equal
    the per-tap scan's.  The first axis goes first because its taps are whole contiguous rows (one ``fmax`` pass
    shrinks the data by the stride); the last axis's strided taps are then read from the smaller array.
    Measured (one core): 1x64x128x128 k2 s2 0.94 -> 0.50 ms, 1x64x112x112 k3 s2 p1 1.26 -> 0.64 ms.
    """
    reduced = x
    for a, axis in enumerate(axes):
        reduced = _max_along(reduced, a, axis)
    return np.fmax(reduced, reduced.dtype.type(init), out=reduced)


def _max_along(r: np.ndarray, a: int, axis: _Axis) -> np.ndarray:
    """``fmax`` over the in-input taps of spatial axis ``a`` (``-inf`` where a window has none): a fresh array."""
    lead = (slice(None),) * (2 + a)
    ranges = [axis.tap_outputs(j) for j in range(axis.kernel)]
    flat_last = a == len(r.shape) - 3 and r.flags.c_contiguous and axis.size == axis.count * axis.stride

    def source(lo: int, hi: int, offset: int) -> np.ndarray:
        start = lo * axis.stride + offset
        return r[lead + (slice(start, start + (hi - lo - 1) * axis.stride + 1, axis.stride),)]

    full = [j for j, (lo, hi, _) in enumerate(ranges) if lo == 0 and hi == axis.count]
    if len(full) >= 2:
        out = np.fmax(source(*ranges[full[0]]), source(*ranges[full[1]]))
        done = set(full[:2])
    elif full:
        out = source(*ranges[full[0]]).copy()
        done = {full[0]}
    else:
        out = np.full((*r.shape[: 2 + a], axis.count, *r.shape[3 + a :]), -np.inf, r.dtype)
        done = set()
    for j, (lo, hi, offset) in enumerate(ranges):
        if j in done or hi <= lo:
            continue
        if flat_last and out.flags.c_contiguous:
            _fmax_flat_last(out, r, axis, lo, hi, offset)
        else:
            target = out[lead + (slice(lo, hi),)]
            np.fmax(target, source(lo, hi, offset), out=target)
    return out


def _fmax_flat_last(out: np.ndarray, r: np.ndarray, axis: _Axis, lo: int, hi: int, offset: int) -> None:
    """``out[..., lo:hi] = fmax(out[..., lo:hi], tap)`` on the last axis as one 1-D strided pass.

    With ``size == count * stride`` output cell ``i`` of the flattened ``out`` reads flattened input cell
    ``i * stride + offset``: one long loop instead of one short loop per row (0.21 -> 0.14 ms on 64x56x112).
    The few columns outside ``[lo, hi)`` read a neighbouring row there; they are saved before and put back.
    """
    rows = out.reshape(-1, axis.count)
    outside = np.r_[0:lo, hi : axis.count]
    kept = rows[:, outside].copy() if outside.size else None
    flat_out, flat_in = out.reshape(-1), r.reshape(-1)
    stop = flat_out.size - (axis.count - hi)
    target = flat_out[lo:stop]
    start = lo * axis.stride + offset
    np.fmax(target, flat_in[start : start + (stop - lo - 1) * axis.stride + 1 : axis.stride], out=target)
    if kept is not None:
        rows[:, outside] = kept


def _fast_sum(x: np.ndarray, axes: Sequence[_Axis], *, separable: bool = False) -> np.ndarray:
    """Window sums, in parallel plane blocks: per tap in scan order (:func:`_block_sum`), or one axis at a time."""

    def compute(block: np.ndarray) -> tuple[np.ndarray]:
        return (_separable(_padded(block, axes, 0.0), axes, np.add) if separable else _block_sum(block, axes),)

    (total,) = _over_plane_blocks(x, compute)
    assert total is not None
    return total


def _block_sum(x: np.ndarray, axes: Sequence[_Axis]) -> np.ndarray:
    """Sum over the taps of a zero-padded input, one tap after another (padded zeros add nothing)."""
    padded = _padded(x, axes, 0.0)
    taps = _taps(axes)
    out = _tap_view(padded, axes, next(taps)).copy()
    for tap in taps:
        out += _tap_view(padded, axes, tap)
    return out


# ----------------------------------------------------------------------------------------------------------------
# ONNX MaxPool / AveragePool / GlobalMaxPool / GlobalAveragePool
# ----------------------------------------------------------------------------------------------------------------


def _onnx_axes(
    op: str,
    x: np.ndarray,
    kernel_shape: Sequence[int],
    strides: Sequence[int] | None,
    pads: Sequence[int] | None,
    dilations: Sequence[int] | None,
    ceil_mode: int,
) -> tuple[_Axis, ...]:
    spatial = tuple(int(i) for i in x.shape[2:])
    rank = len(spatial)
    kernel = per_axis(op, "kernel_shape", kernel_shape, rank, 1, minimum=1)
    strides_t = per_axis(op, "strides", strides, rank, 1, minimum=1)
    dilations_t = per_axis(op, "dilations", dilations, rank, 1, minimum=1)
    pads_t = per_axis(op, "pads (begin..., end...)", pads, 2 * rank, 0, minimum=0)
    if int(ceil_mode) not in (0, 1):
        raise ValidationError(f"{op}: ceil_mode must be 0 or 1, got {ceil_mode}")
    begin, end = pads_t[:rank], pads_t[rank:]
    if any(p >= k for p, k in zip(begin + end, kernel + kernel, strict=True)):
        raise ValidationError(
            f"{op}: pads must be smaller than the kernel (onnxruntime refuses others), got pads {list(pads_t)} "
            f"kernel_shape {list(kernel)}"
        )
    axes = []
    for a, (i, k, s, d, pb, pe) in enumerate(zip(spatial, kernel, strides_t, dilations_t, begin, end, strict=True)):
        count = shapes.onnx_pool_output_size(i, k, s, pb, pe, d, int(ceil_mode))
        if count < 1:
            rounding = "ceil" if ceil_mode else "floor"
            raise ValidationError(
                f"{op}: output size of spatial axis {a} is {count} < 1: {rounding}((in + pad_begin + pad_end - "
                f"dilation*(kernel-1) - 1) / stride) + 1 with in={i} pads=({pb}, {pe}) kernel={k} dilation={d} "
                f"stride={s}"
            )
        axes.append(_Axis(size=i, kernel=k, stride=s, pad_begin=pb, pad_end=pe, count=count, dilation=d))
    return tuple(axes)


def _onnx_axis_divisors(axis: _Axis, count_include_pad: int) -> np.ndarray:
    low, high = (-axis.pad_begin, axis.size + axis.pad_end) if count_include_pad else (0, axis.size)
    return np.array([sum(low <= t < high for t in axis.taps(o)) for o in range(axis.count)], dtype=np.int64)


def _onnx_divisor_map(axes: Sequence[_Axis], count_include_pad: int) -> np.ndarray:
    """``(*out)`` int64: what ONNX AveragePool divides each output by, the product of the per-axis tap counts."""
    return _outer([_onnx_axis_divisors(axis, count_include_pad) for axis in axes])


def onnx_pool_divisors(
    input_spatial: Sequence[int],
    *,
    kernel_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    ceil_mode: int = 0,
    count_include_pad: int = 0,
) -> np.ndarray:
    """What ONNX AveragePool divides each output by: ``(*out)`` int64, the product over axes of the number of taps
    inside ``[0, in)`` (``count_include_pad=0``) or inside ``[-pad_begin, in + pad_end)`` (``=1``)."""
    probe = _probe(input_spatial)
    axes = _onnx_axes("AveragePool", probe, kernel_shape, strides, pads, dilations, ceil_mode)
    return _onnx_divisor_map(axes, count_include_pad)


def max_pool(
    x: np.ndarray,
    *,
    kernel_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    ceil_mode: int = 0,
) -> np.ndarray:
    """ONNX MaxPool (first output), fast path.  Attributes as in the ONNX spec; ``auto_pad`` is not taken.

    Padding never wins; output sizes follow :func:`convertkit.shapes.onnx_pool_output_size`.  Pads must be smaller
    than the kernel (onnxruntime refuses others).
    """
    x = check_float_input("MaxPool", x)
    axes = _onnx_axes("MaxPool", x, kernel_shape, strides, pads, dilations, ceil_mode)
    return _fast_max(x, axes, float(np.finfo(x.dtype).min), with_plane_index=False)[0]


def max_pool_with_indices(
    x: np.ndarray,
    *,
    kernel_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    ceil_mode: int = 0,
    storage_order: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """ONNX MaxPool with its second output, ``Indices``: ``(pooled, indices)``.

    ``indices`` (int64) index the *whole* input tensor flattened: ``(n * C + c) * prod(spatial) + plane index``,
    the plane index row-major (``storage_order=0``) or column-major (``storage_order=1``, ``h + w * H``).
    """
    x = check_float_input("MaxPool", x)
    if storage_order not in (0, 1):
        raise ValidationError(f"MaxPool: storage_order must be 0 (row-major) or 1 (column-major), not {storage_order}")
    axes = _onnx_axes("MaxPool", x, kernel_shape, strides, pads, dilations, ceil_mode)
    order: Literal["C", "F"] = "F" if storage_order else "C"
    pooled, plane = _fast_max(x, axes, float(np.finfo(x.dtype).min), with_plane_index=True, order=order)
    assert plane is not None
    return pooled, _plane_to_flat(plane, x.shape)


def max_pool_by_window(
    x: np.ndarray,
    *,
    kernel_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    ceil_mode: int = 0,
    storage_order: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """ONNX MaxPool window by window (the oracle): ``(pooled, indices)`` as :func:`max_pool_with_indices`."""
    x = check_float_input("MaxPool", x)
    axes = _onnx_axes("MaxPool", x, kernel_shape, strides, pads, dilations, ceil_mode)
    init = float(np.finfo(x.dtype).min)
    out_shape = (*x.shape[:2], *(axis.count for axis in axes))
    out = np.full(out_shape, init, dtype=x.dtype)
    plane = np.full(out_shape, -1, dtype=np.int64)
    for position in _positions(axes):
        cells = _window_cells(axes, position)
        if not all(len(c) for c in cells):
            continue
        out[_NC + position], plane[_NC + position] = _window_max(x, cells, init, "F" if storage_order else "C")
    return out, _plane_to_flat(plane, x.shape)


def average_pool(
    x: np.ndarray,
    *,
    kernel_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    ceil_mode: int = 0,
    count_include_pad: int = 0,
) -> np.ndarray:
    """ONNX AveragePool, fast path: the sum over each window's taps on the input, divided by
    :func:`onnx_pool_divisors` (``dilations`` is an AveragePool attribute since opset 19)."""
    x = check_float_input("AveragePool", x)
    axes = _onnx_axes("AveragePool", x, kernel_shape, strides, pads, dilations, ceil_mode)
    divisors = _onnx_divisor_map(axes, _check_count_include_pad(count_include_pad))
    # Row sums, then sums of row sums: another order of additions than a per-tap scan (onnxruntime's own order
    # is its MLAS kernel's), for k_h + k_w passes instead of k_h * k_w.
    total = _fast_sum(x, axes, separable=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(total, divisors.astype(x.dtype), out=total)


def average_pool_by_window(
    x: np.ndarray,
    *,
    kernel_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    ceil_mode: int = 0,
    count_include_pad: int = 0,
) -> np.ndarray:
    """ONNX AveragePool window by window (the oracle): mean of the window's cells on the input, times
    ``cells / divisor`` where the divisor counts the taps inside the input (or the pads, ``count_include_pad``)."""
    x = check_float_input("AveragePool", x)
    axes = _onnx_axes("AveragePool", x, kernel_shape, strides, pads, dilations, ceil_mode)
    include = _check_count_include_pad(count_include_pad)
    out = np.empty((*x.shape[:2], *(axis.count for axis in axes)), dtype=x.dtype)
    low_high = [((-a.pad_begin, a.size + a.pad_end) if include else (0, a.size)) for a in axes]
    for position in _positions(axes):
        cells = _window_cells(axes, position)
        divisor = math.prod(
            sum(lo <= t < hi for t in axis.taps(o)) for axis, o, (lo, hi) in zip(axes, position, low_high, strict=True)
        )
        total = x[_NC + np.ix_(*cells)].sum(axis=tuple(range(2, x.ndim)), dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[_NC + position] = total / divisor
    return out


def _check_count_include_pad(value: int) -> int:
    if int(value) not in (0, 1):
        raise ValidationError(f"AveragePool: count_include_pad must be 0 or 1, got {value}")
    return int(value)


def global_max_pool(x: np.ndarray) -> np.ndarray:
    """ONNX GlobalMaxPool: the maximum over all spatial axes, kept as size-1 axes."""
    x = check_float_input("GlobalMaxPool", x)
    return x.max(axis=tuple(range(2, x.ndim)), keepdims=True)


def global_average_pool(x: np.ndarray) -> np.ndarray:
    """ONNX GlobalAveragePool: the mean over all spatial axes, kept as size-1 axes."""
    x = check_float_input("GlobalAveragePool", x)
    return x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)


# ----------------------------------------------------------------------------------------------------------------
# Masks, indices and unpooling
# ----------------------------------------------------------------------------------------------------------------


def _plane_offsets(input_shape: Sequence[int], ndim: int) -> np.ndarray:
    batch, channels = int(input_shape[0]), int(input_shape[1])
    plane = math.prod(int(i) for i in input_shape[2:])
    return (np.arange(batch * channels, dtype=np.int64) * plane).reshape(batch, channels, *(1,) * (ndim - 2))


def _plane_to_flat(plane_index: np.ndarray, input_shape: Sequence[int]) -> np.ndarray:
    flat = plane_index + _plane_offsets(input_shape, plane_index.ndim)
    return np.where(plane_index < 0, -1, flat)


def caffe_mask_to_onnx_indices(mask: np.ndarray, input_shape: Sequence[int]) -> np.ndarray:
    """Caffe's MAX mask (index within each ``(n, c)`` plane) -> ONNX MaxPool ``Indices`` (index into the whole
    row-major input tensor, ``storage_order=0``): ``mask + (n * C + c) * prod(spatial)``; -1 stays -1.

    ``input_shape`` is the *pooled input's* shape ``(N, C, *spatial)``; a float mask (as Caffe's top holds it)
    must hold integers.
    """
    mask = _integer_array("caffe_mask_to_onnx_indices", mask)
    _check_mask_planes(mask, input_shape, "caffe_mask_to_onnx_indices")
    plane = math.prod(int(i) for i in input_shape[2:])
    if mask.size and (mask.min() < -1 or mask.max() >= plane):
        raise ValidationError(
            f"caffe_mask_to_onnx_indices: mask values must be plane indices in [0, {plane}) (or -1), got "
            f"[{mask.min()}, {mask.max()}] for input shape {list(input_shape)}"
        )
    return _plane_to_flat(mask, input_shape)


def onnx_indices_to_caffe_mask(indices: np.ndarray, input_shape: Sequence[int]) -> np.ndarray:
    """ONNX MaxPool ``Indices`` (``storage_order=0``) -> Caffe's MAX mask: ``indices - (n * C + c) * prod(spatial)``.

    Every index must point into its own ``(n, c)`` plane, as MaxPool's do; -1 stays -1.
    """
    indices = _integer_array("onnx_indices_to_caffe_mask", indices)
    _check_mask_planes(indices, input_shape, "onnx_indices_to_caffe_mask")
    plane = math.prod(int(i) for i in input_shape[2:])
    mask = indices - _plane_offsets(input_shape, indices.ndim)
    outside = (indices != -1) & ((mask < 0) | (mask >= plane))
    if outside.any():
        where = tuple(int(i[0]) for i in np.nonzero(outside))
        raise ValidationError(
            f"onnx_indices_to_caffe_mask: index {int(indices[where])} at {list(where)} is not in plane "
            f"(n, c) = {where[:2]} of an input of shape {list(input_shape)} (indices must come from MaxPool with "
            "storage_order 0 on that input)"
        )
    return np.where(indices == -1, -1, mask)


def _integer_array(op: str, values: np.ndarray) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValidationError(f"{op}: a float mask must hold whole numbers")
    elif array.dtype.kind not in "iu":
        raise ValidationError(f"{op}: mask / indices must be integers, not {array.dtype}")
    return array.astype(np.int64)


def _check_mask_planes(mask: np.ndarray, input_shape: Sequence[int], op: str) -> None:
    if mask.ndim != len(input_shape) or tuple(mask.shape[:2]) != tuple(int(i) for i in input_shape[:2]):
        raise ValidationError(
            f"{op}: mask shape {list(mask.shape)} must be (N, C, *pooled) with N, C of the input {list(input_shape)}"
        )


def max_unpool(
    x: np.ndarray,
    indices: np.ndarray,
    *,
    kernel_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    output_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """ONNX MaxUnpool: zeros of the output shape with ``x`` written at ``indices`` (flat over the whole output).

    Without ``output_shape`` (the full ``(N, C, *spatial)`` shape, ONNX's third input) the spatial size is
    ``(in - 1) * stride + kernel - pad_begin - pad_end``.  Where two inputs share an index the later one (in
    row-major order of ``x``) is kept, as onnxruntime's loop does; from MaxPool they carry the same value anyway.
    """
    x = check_float_input("MaxUnpool", x)
    indices = _integer_array("MaxUnpool", indices)
    if indices.shape != x.shape:
        raise ValidationError(f"MaxUnpool: indices shape {list(indices.shape)} must equal x shape {list(x.shape)}")
    rank = x.ndim - 2
    kernel = per_axis("MaxUnpool", "kernel_shape", kernel_shape, rank, 1, minimum=1)
    strides_t = per_axis("MaxUnpool", "strides", strides, rank, 1, minimum=1)
    pads_t = per_axis("MaxUnpool", "pads (begin..., end...)", pads, 2 * rank, 0, minimum=0)
    if output_shape is None:
        spatial = tuple(
            (i - 1) * s + k - pb - pe
            for i, s, k, pb, pe in zip(x.shape[2:], strides_t, kernel, pads_t[:rank], pads_t[rank:], strict=True)
        )
        shape = (*x.shape[:2], *spatial)
    else:
        shape = tuple(int(d) for d in output_shape)
        if len(shape) != x.ndim or shape[:2] != x.shape[:2]:
            raise ValidationError(
                f"MaxUnpool: output_shape {list(shape)} must be (N, C, *spatial) with N, C of x {list(x.shape)}"
            )
    out = np.zeros(shape, dtype=x.dtype)
    if indices.size and (indices.min() < 0 or indices.max() >= out.size):
        raise ValidationError(
            f"MaxUnpool: indices must lie in [0, {out.size}) for output shape {list(shape)}, got "
            f"[{indices.min()}, {indices.max()}]"
        )
    out.reshape(-1)[indices.reshape(-1)] = x.reshape(-1)
    return out


def caffe_max_unpool(x: np.ndarray, mask: np.ndarray, *, output_spatial: Sequence[int]) -> np.ndarray:
    """SegNet's Caffe ``Upsample`` (max-unpooling with the pooling mask as second bottom).

    Per ``(n, c)`` plane: zeros of ``output_spatial`` with ``x[i]`` written at plane index ``mask[i]``, in order
    (``alexgkendall/caffe-segnet`` ``src/caffe/layers/upsample_layer.cpp``, Forward_cpu: ``top_data[idx] =
    bottom_data[i]`` after ``caffe_set(top_count, 0)``; an index past ``upsample_h * upsample_w`` is fatal there).
    The output size (``upsample_h`` / ``upsample_w``, or ``in * scale - pad_out``) is the caller's.
    """
    x = check_float_input("Caffe Upsample", x)
    mask = _integer_array("Caffe Upsample", mask)
    if mask.shape != x.shape:
        raise ValidationError(f"Caffe Upsample: mask shape {list(mask.shape)} must equal the input's {list(x.shape)}")
    spatial = tuple(int(i) for i in output_spatial)
    if len(spatial) != x.ndim - 2:
        raise ValidationError(f"Caffe Upsample: output_spatial {list(spatial)} needs {x.ndim - 2} sizes")
    plane = math.prod(spatial)
    if mask.size and (mask.min() < 0 or mask.max() >= plane):
        raise ValidationError(
            f"Caffe Upsample: mask values must lie in [0, {plane}) for output {list(spatial)}, got "
            f"[{mask.min()}, {mask.max()}] (check that the upsample size matches the pooling layer's input)"
        )
    return max_unpool(
        x,
        _plane_to_flat(mask, (*x.shape[:2], *spatial)),
        kernel_shape=(1,) * len(spatial),
        output_shape=(*x.shape[:2], *spatial),
    )


# ----------------------------------------------------------------------------------------------------------------
# Caffe Pooling as ONNX
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CaffePooling:
    """A Caffe Pooling configuration, in the keyword names of :func:`caffe_pool` (pads ONNX-style, symmetric)."""

    pool: str = "MAX"
    kernel_shape: tuple[int, ...] | None = None
    strides: tuple[int, ...] | None = None
    pads: tuple[int, ...] | None = None
    global_pooling: bool = False
    round_mode: str = "CEIL"

    def kwargs(self) -> dict:
        """Keyword arguments for :func:`caffe_pool` / :func:`caffe_pool_by_window`."""
        return {
            "pool": self.pool,
            "kernel_shape": self.kernel_shape,
            "strides": self.strides,
            "pads": self.pads,
            "global_pooling": self.global_pooling,
            "round_mode": self.round_mode,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class OnnxPooling:
    """An ONNX pooling node, and what it needs to equal a Caffe pooling exactly.

    ``op_type`` is MaxPool, AveragePool, GlobalMaxPool or GlobalAveragePool; the other fields are its attributes
    (Global* ignore them).  When ``divisor_map`` is not None the node alone is *not* exact: AveragePool divides
    output position ``o`` by ``onnx_divisor_map[o]`` where Caffe divides by ``divisor_map[o]``, and the exact
    equivalent is the AveragePool followed by ``Mul(correction)`` with ``correction = onnx_divisor_map /
    divisor_map`` (shape ``(*out)``, broadcast over N and C).
    """

    op_type: str
    kernel_shape: tuple[int, ...] = ()
    strides: tuple[int, ...] = ()
    pads: tuple[int, ...] = ()
    dilations: tuple[int, ...] = ()
    ceil_mode: int = 0
    count_include_pad: int = 0
    divisor_map: np.ndarray | None = field(default=None, compare=False)
    onnx_divisor_map: np.ndarray | None = field(default=None, compare=False)

    @property
    def exact(self) -> bool:
        """Whether the node alone computes the Caffe pooling (no divisor correction)."""
        return self.divisor_map is None

    @property
    def correction(self) -> np.ndarray | None:
        """``onnx_divisor_map / divisor_map`` (float64), the constant to multiply the AveragePool output by."""
        if self.divisor_map is None or self.onnx_divisor_map is None:
            return None
        return self.onnx_divisor_map / self.divisor_map

    def attributes(self) -> dict:
        """The node's ONNX attributes (none for the Global ops; ``count_include_pad`` only for AveragePool)."""
        if self.op_type.startswith("Global"):
            return {}
        attrs: dict = {"kernel_shape": list(self.kernel_shape), "strides": list(self.strides), "pads": list(self.pads)}
        if self.dilations and any(d != 1 for d in self.dilations):
            attrs["dilations"] = list(self.dilations)
        if self.ceil_mode:
            attrs["ceil_mode"] = 1
        if self.op_type == "AveragePool":
            attrs["count_include_pad"] = self.count_include_pad
        return attrs

    def run_reference(self, x: np.ndarray) -> np.ndarray:
        """This node (and its correction) on ``x`` with the ONNX reference kernels of this module."""
        if self.op_type == "GlobalMaxPool":
            return global_max_pool(x)
        if self.op_type == "GlobalAveragePool":
            return global_average_pool(x)
        common: dict[str, Any] = {
            "kernel_shape": self.kernel_shape,
            "strides": self.strides,
            "pads": self.pads,
            "dilations": self.dilations or None,
            "ceil_mode": self.ceil_mode,
        }
        if self.op_type == "MaxPool":
            return max_pool(x, **common)
        y = average_pool(x, **common, count_include_pad=self.count_include_pad)
        correction = self.correction
        return y if correction is None else y * correction.astype(y.dtype)


def _probe(input_spatial: Sequence[int]) -> np.ndarray:
    """An input of one plane of this spatial size, for the functions that need only its shape."""
    return np.empty((1, 1, *input_spatial), dtype=np.float32)


def _caffe_config_of(probe: np.ndarray, caffe: CaffePooling) -> _CaffeConfig:
    return _caffe_config(
        probe, caffe.pool, caffe.kernel_shape, caffe.strides, caffe.pads, caffe.global_pooling, caffe.round_mode
    )


def _axis_windows_equal(caffe: _Axis, onnx: _Axis) -> bool:
    """Same number of windows, and each window reads the same input cells."""
    return caffe.count == onnx.count and all(caffe.real_taps(o) == onnx.real_taps(o) for o in range(caffe.count))


def caffe_pooling_equals_onnx(input_spatial: Sequence[int], caffe: CaffePooling, onnx: OnnxPooling) -> bool:
    """Whether the ONNX node alone (without any correction) computes the Caffe pooling on this input size exactly:
    same pooling kind, same output size, the same input cells in every window, and for averages the same divisor
    at every output position.  Caffe's empty windows (``-FLT_MAX`` / ``0 / size <= 0``) never match."""
    probe = _probe(input_spatial)
    config = _caffe_config_of(probe, caffe)
    if any(not axis.real_taps(o) for axis in config.axes for o in range(axis.count)):
        return False
    wanted = {"MAX": ("MaxPool", "GlobalMaxPool"), "AVE": ("AveragePool", "GlobalAveragePool")}[config.pool]
    if onnx.op_type not in wanted:
        return False
    if onnx.op_type.startswith("Global"):
        return all(axis.count == 1 and axis.real_taps(0) == list(range(axis.size)) for axis in config.axes)
    onnx_axes = _onnx_axes(
        onnx.op_type, probe, onnx.kernel_shape, onnx.strides, onnx.pads, onnx.dilations or None, onnx.ceil_mode
    )
    if not all(_axis_windows_equal(c, o) for c, o in zip(config.axes, onnx_axes, strict=True)):
        return False
    if config.pool == "MAX":
        return True
    caffe_divisors = _caffe_divisor_map(config.axes)
    onnx_divisors = _onnx_divisor_map(onnx_axes, onnx.count_include_pad)
    return bool(np.array_equal(caffe_divisors, onnx_divisors))


def caffe_pooling_as_onnx(
    input_spatial: Sequence[int], caffe: CaffePooling, *, ceil_mode_allowed: bool = True
) -> OnnxPooling:
    """The ONNX node computing a Caffe pooling on inputs of spatial size ``input_spatial``, as exactly as ONNX can.

    Tried in order, the first exact one wins: Global* for global pooling; ``pads = (pad, pad)`` with
    ``ceil_mode=0`` (when flooring gives Caffe's size); ``ceil_mode=1`` (unless ``ceil_mode_allowed`` is False,
    e.g. for opsets < 10); ``ceil_mode=0`` with the end pads grown to cover Caffe's last window.  For AVE,
    ``count_include_pad`` 1 then 0.  If no candidate's divisor is Caffe's (only possible without ceil_mode, when
    Caffe's last window hangs past ``in + pad``), the last candidate comes with ``divisor_map`` / ``correction``
    (see :class:`OnnxPooling`).  The form depends on the input size, as Caffe's divisors do.

    Raises
    ------
    convertkit.errors.UnsupportedError
        When Caffe pools an empty window (a layer without any pad, a window starting past the input:
        ``stride > kernel`` with ``round_mode: CEIL``): ONNX drops such windows, so no ONNX pooling has Caffe's
        output size.
    """
    probe = _probe(input_spatial)
    config = _caffe_config_of(probe, caffe)
    empty = [(a, o) for a, axis in enumerate(config.axes) for o in range(axis.count) if not axis.real_taps(o)]
    if empty:
        a, o = empty[0]
        axis = config.axes[a]
        value = "-FLT_MAX" if caffe.pool == "MAX" else "0 / size <= 0"
        raise UnsupportedError(
            f"Caffe Pooling: output {o} of spatial axis {a} pools an empty window (in={axis.size}, "
            f"kernel={axis.kernel}, stride={axis.stride}, no pad on any axis, round_mode {caffe.round_mode}: it "
            f"starts at {axis.start(o)} >= in), where Caffe writes {value}; "
            "ONNX drops windows that start past the input, so no ONNX pooling has Caffe's output size — use "
            "round_mode FLOOR or stride <= kernel"
        )
    rank = len(config.axes)
    if caffe.global_pooling:
        return OnnxPooling(op_type="GlobalMaxPool" if config.pool == "MAX" else "GlobalAveragePool")
    op_type = "MaxPool" if config.pool == "MAX" else "AveragePool"
    kernel = tuple(axis.kernel for axis in config.axes)
    strides = tuple(axis.stride for axis in config.axes)
    begin = tuple(axis.pad_begin for axis in config.axes)
    grown_end = tuple(max(axis.pad_end, axis.start(axis.count - 1) + axis.kernel - axis.size) for axis in config.axes)
    layouts = [(begin + begin, 0)]
    if ceil_mode_allowed:
        layouts.append((begin + begin, 1))
    layouts.append((begin + grown_end, 0))
    include_pad_choices = (1, 0) if op_type == "AveragePool" else (0,)
    candidates = [
        OnnxPooling(
            op_type=op_type,
            kernel_shape=kernel,
            strides=strides,
            pads=pads,
            dilations=(1,) * rank,
            ceil_mode=ceil_mode,
            count_include_pad=include,
        )
        for pads, ceil_mode in layouts
        for include in include_pad_choices
    ]
    sized = []
    for candidate in candidates:
        if any(p >= k for p, k in zip(candidate.pads, kernel + kernel, strict=True)):
            continue
        try:
            onnx_axes = _onnx_axes(op_type, probe, kernel, strides, candidate.pads, None, candidate.ceil_mode)
        except ValidationError:  # no output at all (a kernel larger than the input, floored)
            continue
        if not all(_axis_windows_equal(c, o) for c, o in zip(config.axes, onnx_axes, strict=True)):
            continue
        if caffe_pooling_equals_onnx(input_spatial, caffe, candidate):
            return candidate
        sized.append((candidate, onnx_axes))
    if not sized:  # unreachable for a valid Caffe configuration without empty windows; kept as a loud guard
        raise UnsupportedError(
            f"Caffe Pooling {caffe}: no ONNX pooling reads the same windows on {list(input_spatial)}"
        )
    candidate, onnx_axes = sized[0]  # the grown-pads layout, count_include_pad=1 first
    return dataclasses.replace(
        candidate,
        divisor_map=_caffe_divisor_map(config.axes),
        onnx_divisor_map=_onnx_divisor_map(onnx_axes, candidate.count_include_pad),
    )
