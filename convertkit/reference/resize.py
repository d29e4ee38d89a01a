"""Reference ONNX Resize (opset 19) in NumPy: nearest, linear and cubic, with antialias, any rank.

Resize is separable: every resized axis maps each output index to a few input indices with weights, and the
N-D result is those 1-D maps applied one axis at a time (a gather and a weighted sum per axis).  Each axis goes
through the same named steps: output size and scale, original coordinate of every output index (the
``coordinate_transformation_mode``), then input taps and weights (the ``mode``), and for
``tf_crop_and_resize`` a mask of coordinates outside the input, which receive ``extrapolation_value``.

Where the ONNX text leaves room, this follows onnxruntime 1.32 (the tests pin each point against it):

* Coordinates and weights are computed in float32 with onnxruntime's order of operations (the ONNX text does
  not say).  Output sizes from ``scales`` are ``floor(float32(scale) * in)`` evaluated in float32 as well.
* ``round_prefer_floor`` / ``round_prefer_ceil`` treat a coordinate within 1e-6 of ``k + 0.5`` as a tie
  (onnxruntime's tolerance for float32 error in the transform: 0.50000018 rounds to 0 under
  ``round_prefer_floor``, 0.49999997 to 1 under ``round_prefer_ceil``).
* ``keep_aspect_ratio_policy``: the output size is ``round(scale * in)`` rounding halves away from zero
  (``std::round``), and every resized axis then uses that one policy scale in its coordinate transform.
* Linear clamps the original coordinate into ``[0, in - 1]`` and interpolates between its floor and the next
  index; cubic does not clamp the coordinate and reads edge values for neighbours outside the input.

onnxruntime also departs from the ONNX text in two identity shortcuts, which this reference copies so that
it agrees with the runtime that executes the exported models:

* When the output shape equals the input shape, the input is returned unchanged, whatever the scales and
  coordinate mode (e.g. ``scales=[1.1]`` on a length-4 axis, or ``tf_crop_and_resize`` with any roi).
* An axis whose scale is exactly 1 is copied unchanged, without the coordinate transform; this differs from
  the text for ``tf_half_pixel_for_nn`` (``x + 0.5``) and for ``tf_crop_and_resize`` (its roi is ignored).
  With ``antialias``, so is every axis whose size does not change (``scales=[1.3]`` on a length-2 axis).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ValidationError
from ..shapes import resize_output_size

__all__ = ["resize", "resize_by_gather"]

_MODES = ("nearest", "linear", "cubic")
_NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
_ASPECT_POLICIES = ("stretch", "not_larger", "not_smaller")

_F32 = np.float32


def resize(
    x: np.ndarray,
    *,
    scales: Sequence[float] | None = None,
    sizes: Sequence[int] | None = None,
    mode: str = "nearest",
    coordinate_transformation_mode: str = "half_pixel",
    nearest_mode: str = "round_prefer_floor",
    cubic_coeff_a: float = -0.75,
    exclude_outside: int = 0,
    extrapolation_value: float = 0.0,
    roi: Sequence[float] | None = None,
    axes: Sequence[int] | None = None,
    keep_aspect_ratio_policy: str = "stretch",
    antialias: int = 0,
) -> np.ndarray:
    """ONNX Resize (opset 19).

    Parameters
    ----------
    x : numpy.ndarray
        Input of any rank >= 1.  Floating point for ``linear`` and ``cubic``; any dtype for ``nearest``.
    scales : sequence of float, optional
        One scale per resized axis (all axes, or ``axes``); the output size is ``floor(in * scale)`` and the
        coordinate transform uses the given scale.  Exactly one of ``scales`` and ``sizes``.
    sizes : sequence of int, optional
        One output size per resized axis; the scale is ``out / in`` (see ``keep_aspect_ratio_policy``).
    mode : {"nearest", "linear", "cubic"}
    coordinate_transformation_mode : str
        ``half_pixel``, ``half_pixel_symmetric``, ``pytorch_half_pixel``, ``align_corners``, ``asymmetric``,
        ``tf_half_pixel_for_nn`` or ``tf_crop_and_resize`` (uses ``roi`` and ``extrapolation_value``).
    nearest_mode : {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}
        How ``nearest`` turns an original coordinate into an index.
    cubic_coeff_a : float
        The ``A`` of the Keys cubic kernel.
    exclude_outside : {0, 1}
        Cubic (and antialiased) weights of taps outside the input are dropped and the rest renormalised,
        instead of reading edge values.  No effect on the other modes.
    extrapolation_value : float
        Output value where ``tf_crop_and_resize`` maps outside the input.
    roi : sequence of float, optional
        ``(start..., end...)`` per resized axis, normalised to ``[0, 1]``; only read by ``tf_crop_and_resize``
        (default the whole axis).
    axes : sequence of int, optional
        The axes that ``scales`` / ``sizes`` / ``roi`` refer to (negative counts from the end); default all.
    keep_aspect_ratio_policy : {"stretch", "not_larger", "not_smaller"}
        With ``sizes``: ``stretch`` takes them as given; the others use one scale for all resized axes, the
        smallest (``not_larger``) or largest (``not_smaller``) of ``size / in``, and ``out = round(scale * in)``.
    antialias : {0, 1}
        For ``linear`` and ``cubic``: when downscaling, stretch the filter by ``1 / scale`` so that every input
        pixel contributes.  No effect on ``nearest``.

    Returns
    -------
    numpy.ndarray
        The resized tensor, dtype of ``x``.

    Raises
    ------
    convertkit.errors.ValidationError
        For attribute values outside the operator's definition, or scales / sizes / roi / axes that do not fit.
    """
    return _resize(
        x, scales, sizes, mode, coordinate_transformation_mode, nearest_mode, cubic_coeff_a, exclude_outside,
        extrapolation_value, roi, axes, keep_aspect_ratio_policy, antialias, fast=True,
    )  # fmt: skip


def resize_by_gather(x: np.ndarray, **attributes: Any) -> np.ndarray:
    """:func:`resize` by the plain steps only: the slow, obviously right oracle that tests hold the fast path to.

    Same attributes, result and errors.  Every axis is one gather per tap and a weighted sum
    (:func:`_weighted_gather`), axes in the order of their size ratio, on whole arrays.  :func:`resize` computes
    the same taps and weights; it differs in how it applies them (see :func:`_resize`).
    """
    return _resize(x, *_attribute_values(attributes), fast=False)


def _attribute_values(attributes: dict[str, Any]) -> tuple[Any, ...]:
    defaults = {name: p.default for name, p in inspect.signature(resize).parameters.items() if name != "x"}
    unknown = set(attributes) - set(defaults)
    if unknown:
        raise ValidationError(f"Resize: unknown attribute(s) {', '.join(sorted(unknown))}")
    return tuple({**defaults, **attributes}.values())


def _resize(
    x: np.ndarray,
    scales: Sequence[float] | None,
    sizes: Sequence[int] | None,
    mode: str,
    coordinate_transformation_mode: str,
    nearest_mode: str,
    cubic_coeff_a: float,
    exclude_outside: int,
    extrapolation_value: float,
    roi: Sequence[float] | None,
    axes: Sequence[int] | None,
    keep_aspect_ratio_policy: str,
    antialias: int,
    *,
    fast: bool,
) -> np.ndarray:
    """The body of :func:`resize` (``fast``) and :func:`resize_by_gather`.

    The fast path applies the very same per-axis taps and weights, three ways faster:

    * axis order: shrinking axes first (as the oracle), and among axes that grow alike, the last axis first, so
      that the per-element gather of the last axis runs on the smallest array and the large pass is a row pass;
    * the last axis of finite data is one GEMM with the axis's ``(out, in)`` interpolation matrix
      (:func:`_matrix_pass`: exact zeros added, the taps' products summed in BLAS's order);
    * any other axis gathers whole rows, block by block, into preallocated memory (:func:`_row_pass`): the same
      multiplies and adds as the oracle's gather, in the same order, so bit for bit its values.

    Accumulation is float32 for float32 (float64 for float64) input, on both paths.
    """
    x = np.asarray(x)
    _check_attributes(
        x, mode, coordinate_transformation_mode, nearest_mode, keep_aspect_ratio_policy, exclude_outside, antialias
    )
    resized_axes = _normalise_axes(axes, x.ndim)
    plans = _axis_plans(
        x.shape, resized_axes, scales, sizes, keep_aspect_ratio_policy, roi, coordinate_transformation_mode
    )
    if all(plan.out_size == plan.in_size for plan in plans.values()):
        # onnxruntime copies the input whenever the shape does not change.
        return x.copy()
    transform = _COORDINATE_TRANSFORMS[coordinate_transformation_mode]
    taps = _tap_function(mode, cubic_coeff_a, bool(exclude_outside), bool(antialias))
    result = x if mode == "nearest" else x.astype(_compute_dtype(x.dtype), copy=False)
    outside_masks: dict[int, np.ndarray] = {}
    last = x.ndim - 1

    def order(axis: int) -> tuple[float, int]:
        # Shrinking axes first keeps the intermediate arrays small.
        ratio = plans[axis].out_size / max(1, plans[axis].in_size)
        return (ratio, 0 if fast and axis == last else 1)

    if fast and mode == "nearest" and coordinate_transformation_mode != "tf_crop_and_resize":
        factors = _integer_repeats(plans, transform, nearest_mode, antialias)
        if factors is not None:
            return _repeat_axes(x, factors)
    for axis in sorted(plans, key=order):
        plan = plans[axis]
        if _copied_unchanged(plan, mode, antialias):
            continue
        coordinates = transform(plan)
        if coordinate_transformation_mode == "tf_crop_and_resize":
            outside_masks[axis] = (coordinates < 0) | (coordinates > _F32(plan.in_size - 1))
        if mode == "nearest":
            indices = _nearest_indices(coordinates, plan.in_size, nearest_mode)
            factor = plan.out_size // max(1, plan.in_size)
            if fast and _repeats_each(indices, plan.in_size, factor):
                result = _repeat_axes(result, {axis: factor})
            else:
                # in range already (clipped): "clip" only skips numpy's bounds check
                result = np.take(result, indices, axis=axis, mode="clip" if fast else "raise")
        elif not fast:
            result = _weighted_gather(result, axis, *taps(coordinates, plan))
        elif axis == last and _matrix_pass_applies(result, plan):
            result = _matrix_pass(result, *taps(coordinates, plan), plan.in_size)
        elif axis == last:
            result = _weighted_gather(result, axis, *taps(coordinates, plan))
        else:
            result = _row_pass(result, axis, *taps(coordinates, plan))
    if outside_masks:
        result = _fill_outside(result, outside_masks, extrapolation_value)
    return result.astype(x.dtype, copy=False)


def _repeats_each(indices: np.ndarray, in_size: int, factor: int) -> bool:
    """Whether a nearest gather reads each input index ``factor`` times in order (an integer upsampling)."""
    return (
        factor >= 2 and len(indices) == in_size * factor and np.array_equal(indices, np.arange(len(indices)) // factor)
    )


def _integer_repeats(
    plans: dict[int, _AxisPlan], transform: Callable[[_AxisPlan], np.ndarray], nearest_mode: str, antialias: int
) -> dict[int, int] | None:
    """``{axis: factor}`` when every resized axis of a nearest resize repeats each input ``factor`` times."""
    factors = {}
    for axis, plan in plans.items():
        if _copied_unchanged(plan, "nearest", antialias):
            continue
        factor = plan.out_size // max(1, plan.in_size)
        if not _repeats_each(_nearest_indices(transform(plan), plan.in_size, nearest_mode), plan.in_size, factor):
            return None
        factors[axis] = factor
    return factors


#: Up to this many repeats of a last-axis unit (a value, or a 64-bit pair of float32s), one strided copy per repeat
#: beats one broadcast copy, whose inner loop is only the repeat count long; past it the broadcast copy wins.
#: Measured on 1x21x64x64 (ms, strided / broadcast): float64 x2 0.74 / 0.87, x3 1.22 / 1.19, x4 1.79 / 1.63,
#: x8 3.26 / 1.93; float32 x3 0.12 / 0.27, x4 (pairs x2) 0.23 / 0.37, x8 (pairs x4) 0.70 / 0.49.
_STRIDED_COPIES_UP_TO = 3

#: ``(v << 32) | v`` for a 32-bit ``v``: one 64-bit word holding a 32-bit value twice (either byte order).
_TWICE = np.uint64(0x100000001)


def _repeat_axes(data: np.ndarray, factors: dict[int, int]) -> np.ndarray:
    """``data`` with each index of axis ``a`` repeated ``factors[a]`` times, in one broadcast copy.

    The last axis's repeats are the slow part (a write per element); for 4-byte values an even factor is halved
    first: the 32-bit patterns times ``2**32 + 1`` are 64-bit words holding each value twice, written as one.
    The bit patterns are copied, never computed on.  Measured through :func:`resize` on 1x21x64x64 float32,
    against a copy per axis: x2 0.17 -> 0.13 ms, x8 1.84 -> 1.38 ms.
    """
    shape, last = data.shape, data.ndim - 1
    target: list[int] = []
    source: tuple = ()
    for axis, size in enumerate(shape):
        factor = factors.get(axis, 1)
        target += [size, factor] if axis != last and factor > 1 else [size]
        source += (slice(None), None) if axis != last and factor > 1 else (slice(None),)
    last_factor = factors.get(last, 1)
    units = data
    if last_factor % 2 == 0 and data.dtype.itemsize == 4:
        words = data.view(np.uint32)
        last_factor //= 2
        if last_factor == 1:  # the doubling straight into the output
            out = np.empty(target, dtype=np.uint64)
            np.multiply(words[source], _TWICE, out=out, casting="unsafe")
            return out.view(data.dtype).reshape(_repeated_shape(shape, factors))
        units = words.astype(np.uint64)
        units *= _TWICE
    if last_factor > 1:
        row = np.empty((*units.shape, last_factor), dtype=units.dtype)
        if last_factor <= _STRIDED_COPIES_UP_TO:
            for j in range(last_factor):
                row[..., j] = units
        else:
            row[...] = units[..., None]
        units = row.reshape(*units.shape[:-1], units.shape[-1] * last_factor)
    target[-1] = units.shape[-1]
    out = np.empty(target, dtype=units.dtype)
    out[...] = units[source]
    return out.view(data.dtype).reshape(_repeated_shape(shape, factors))


def _repeated_shape(shape: tuple[int, ...], factors: dict[int, int]) -> tuple[int, ...]:
    return tuple(size * factors.get(axis, 1) for axis, size in enumerate(shape))


def _copied_unchanged(plan: _AxisPlan, mode: str, antialias: int) -> bool:
    """onnxruntime's per-axis identity shortcuts (see the module docstring)."""
    return plan.scale == 1.0 or (bool(antialias) and mode != "nearest" and plan.out_size == plan.in_size)


# ----------------------------------------------------------------------------------------------------------------
# Attributes, axes and per-axis sizes
# ----------------------------------------------------------------------------------------------------------------


def _check_attributes(
    x: np.ndarray,
    mode: str,
    coordinate_transformation_mode: str,
    nearest_mode: str,
    keep_aspect_ratio_policy: str,
    exclude_outside: int,
    antialias: int,
) -> None:
    choices = {
        "mode": (mode, _MODES),
        "coordinate_transformation_mode": (coordinate_transformation_mode, tuple(_COORDINATE_TRANSFORMS)),
        "nearest_mode": (nearest_mode, _NEAREST_MODES),
        "keep_aspect_ratio_policy": (keep_aspect_ratio_policy, _ASPECT_POLICIES),
        "exclude_outside": (exclude_outside, (0, 1)),
        "antialias": (antialias, (0, 1)),
    }
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ValidationError(f"Resize: {name} must be one of {', '.join(map(str, allowed))}, not {value!r}")
    if x.ndim < 1:
        raise ValidationError("Resize: x must have rank >= 1, got a scalar")
    if mode != "nearest" and not np.issubdtype(x.dtype, np.floating):
        raise ValidationError(f"Resize: mode {mode!r} needs a floating-point input, got {x.dtype}")


def _normalise_axes(axes: Sequence[int] | None, rank: int) -> tuple[int, ...]:
    if axes is None:
        return tuple(range(rank))
    normalised = []
    for axis in axes:
        axis = int(axis)
        if not -rank <= axis < rank:
            raise ValidationError(f"Resize: axis {axis} is out of range for rank {rank}")
        normalised.append(axis % rank)
    if len(set(normalised)) != len(normalised):
        raise ValidationError(f"Resize: axes must be distinct, got {list(axes)}")
    return tuple(normalised)


@dataclass(frozen=True)
class _AxisPlan:
    """One resized axis: sizes, the float32 scale its coordinate transform uses, and its roi."""

    in_size: int
    out_size: int
    scale: np.float32
    roi_start: np.float32
    roi_end: np.float32


def _axis_plans(
    shape: tuple[int, ...],
    axes: tuple[int, ...],
    scales: Sequence[float] | None,
    sizes: Sequence[int] | None,
    policy: str,
    roi: Sequence[float] | None,
    coordinate_transformation_mode: str,
) -> dict[int, _AxisPlan]:
    in_sizes = [shape[a] for a in axes]
    if scales is not None and sizes is None:
        _check_count("scales", scales, len(axes))
        axis_scales = [_F32(s) for s in scales]
        if any(not s > 0 for s in axis_scales):
            raise ValidationError(f"Resize: scales must be positive, got {list(scales)}")
        out_sizes = [resize_output_size(i, s) for s, i in zip(axis_scales, in_sizes, strict=True)]
    elif sizes is not None and scales is None:
        _check_count("sizes", sizes, len(axes))
        out_sizes, axis_scales = _sizes_and_scales(in_sizes, [int(s) for s in sizes], policy)
    else:
        raise ValidationError("Resize: give exactly one of scales and sizes")
    roi_starts, roi_ends = _roi_per_axis(roi, len(axes), coordinate_transformation_mode)
    return {
        axis: _AxisPlan(i, o, s, r0, r1)
        for axis, i, o, s, r0, r1 in zip(axes, in_sizes, out_sizes, axis_scales, roi_starts, roi_ends, strict=True)
    }


def _check_count(name: str, values: Sequence[float], count: int) -> None:
    if len(values) != count:
        raise ValidationError(f"Resize: {name} needs one value per resized axis ({count}), got {list(values)}")


def _sizes_and_scales(in_sizes: list[int], sizes: list[int], policy: str) -> tuple[list[int], list[np.float32]]:
    """``sizes`` -> (output sizes, scales), applying ``keep_aspect_ratio_policy`` like onnxruntime."""
    if any(s < 0 for s in sizes):
        raise ValidationError(f"Resize: sizes must be non-negative, got {sizes}")
    if any(i == 0 and o != 0 for i, o in zip(in_sizes, sizes, strict=True)):
        raise ValidationError(f"Resize: cannot resize an empty axis to a non-zero size (in {in_sizes}, sizes {sizes})")
    scales = [_F32(o) / _F32(i) if i else _F32(1) for i, o in zip(in_sizes, sizes, strict=True)]
    if policy == "stretch":
        return sizes, scales
    policy_scale = min(scales) if policy == "not_larger" else max(scales)
    # std::round: halves away from zero (numpy's round would send 2.5 to 2).
    out_sizes = [int(math.floor(float(policy_scale * _F32(i)) + 0.5)) for i in in_sizes]
    return out_sizes, [policy_scale] * len(in_sizes)


def _roi_per_axis(
    roi: Sequence[float] | None, count: int, coordinate_transformation_mode: str
) -> tuple[list[np.float32], list[np.float32]]:
    if roi is None or coordinate_transformation_mode != "tf_crop_and_resize":
        return [_F32(0)] * count, [_F32(1)] * count
    values = [_F32(v) for v in roi]
    if len(values) != 2 * count:
        raise ValidationError(
            f"Resize: roi needs (start..., end...) for each resized axis ({2 * count} values), got {list(roi)}"
        )
    return values[:count], values[count:]


def _compute_dtype(dtype: np.dtype) -> np.dtype:
    # float16 interpolates in float32 (as onnxruntime accumulates); float32 and float64 keep their precision.
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


# ----------------------------------------------------------------------------------------------------------------
# Coordinate transforms: output index -> original coordinate, float32 with onnxruntime's order of operations
# ----------------------------------------------------------------------------------------------------------------


def _resized_indices(plan: _AxisPlan) -> np.ndarray:
    return np.arange(plan.out_size, dtype=_F32)


def _half_pixel(plan: _AxisPlan) -> np.ndarray:
    return (_resized_indices(plan) + _F32(0.5)) / plan.scale - _F32(0.5)


def _half_pixel_symmetric(plan: _AxisPlan) -> np.ndarray:
    # The offset recentres the sampled span when floor(in * scale) drops a fraction of a pixel.  onnxruntime
    # computes the offset in float and the final sum in double.
    scaled_length = plan.scale * _F32(plan.in_size)
    adjustment = _F32(plan.out_size) / scaled_length
    offset = (_F32(plan.in_size) / _F32(2)) * (_F32(1) - adjustment)
    coordinates = np.float64(offset) + (_resized_indices(plan).astype(np.float64) + 0.5) / np.float64(plan.scale)
    return (coordinates - 0.5).astype(_F32)


def _pytorch_half_pixel(plan: _AxisPlan) -> np.ndarray:
    if plan.out_size <= 1:
        return np.zeros(plan.out_size, dtype=_F32)
    return _half_pixel(plan)


def _align_corners(plan: _AxisPlan) -> np.ndarray:
    if plan.out_size == 1:
        return np.zeros(1, dtype=_F32)
    return _resized_indices(plan) * _F32(plan.in_size - 1) / _F32(plan.out_size - 1)


def _asymmetric(plan: _AxisPlan) -> np.ndarray:
    return _resized_indices(plan) / plan.scale


def _tf_half_pixel_for_nn(plan: _AxisPlan) -> np.ndarray:
    return (_resized_indices(plan) + _F32(0.5)) / plan.scale


def _tf_crop_and_resize(plan: _AxisPlan) -> np.ndarray:
    span = _F32(plan.in_size - 1)
    if plan.out_size == 1:
        centre = 0.5 * np.float64(plan.roi_start + plan.roi_end) * np.float64(span)
        return np.full(1, centre, dtype=_F32)
    step = _resized_indices(plan) * (plan.roi_end - plan.roi_start) * span
    return plan.roi_start * span + step / _F32(plan.out_size - 1)


_COORDINATE_TRANSFORMS: dict[str, Callable[[_AxisPlan], np.ndarray]] = {
    "half_pixel": _half_pixel,
    "half_pixel_symmetric": _half_pixel_symmetric,
    "pytorch_half_pixel": _pytorch_half_pixel,
    "align_corners": _align_corners,
    "asymmetric": _asymmetric,
    "tf_half_pixel_for_nn": _tf_half_pixel_for_nn,
    "tf_crop_and_resize": _tf_crop_and_resize,
}


# ----------------------------------------------------------------------------------------------------------------
# Modes: original coordinate -> input taps and weights
# ----------------------------------------------------------------------------------------------------------------


#: onnxruntime treats a coordinate within this distance of ``k + 0.5`` as an exact tie, so that float32 error
#: in the coordinate transform (0.49999997 for an exact 0.5) does not decide the rounding direction.
_TIE_TOLERANCE = _F32(1e-6)


def _nearest_indices(coordinates: np.ndarray, in_size: int, nearest_mode: str) -> np.ndarray:
    floor = np.floor(coordinates)
    if nearest_mode == "floor":
        indices = floor
    elif nearest_mode == "ceil":
        indices = np.ceil(coordinates)
    else:
        tie = np.abs((coordinates - floor) - _F32(0.5)) <= _TIE_TOLERANCE
        rounded = np.floor(coordinates.astype(np.float64) + 0.5)
        tie_choice = floor + 1 if nearest_mode == "round_prefer_ceil" else floor
        indices = np.where(tie, tie_choice, rounded)
    return np.clip(indices, 0, in_size - 1).astype(np.intp)


def _linear_taps(coordinates: np.ndarray, in_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Two taps: the floor of the clamped coordinate and the next index, weighted by distance."""
    clamped = np.clip(coordinates, _F32(0), _F32(in_size - 1))
    low = np.minimum(clamped.astype(np.intp), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    weight_low = np.abs(clamped - high.astype(_F32))
    weight_high = np.abs(clamped - low.astype(_F32))
    # At the last index both taps are the same pixel; onnxruntime splits the weight evenly.
    same = low == high
    weight_low[same] = _F32(0.5)
    weight_high[same] = _F32(0.5)
    return np.stack([low, high], axis=1), np.stack([weight_low, weight_high], axis=1)


def _cubic_coefficients(fraction: np.ndarray, a: np.float32) -> np.ndarray:
    """Keys cubic weights of the four neighbours ``floor - 1 .. floor + 2`` for the fractional part."""
    s = fraction
    one, two = _F32(1), _F32(2)
    return np.stack(
        [
            ((a * (s + one) - _F32(5) * a) * (s + one) + _F32(8) * a) * (s + one) - _F32(4) * a,
            ((a + two) * s - (a + _F32(3))) * s * s + one,
            ((a + two) * (one - s) - (a + _F32(3))) * (one - s) * (one - s) + one,
            ((a * (two - s) - _F32(5) * a) * (two - s) + _F32(8) * a) * (two - s) - _F32(4) * a,
        ],
        axis=1,
    )


def _cubic_taps(
    coordinates: np.ndarray, in_size: int, cubic_coeff_a: float, exclude_outside: bool
) -> tuple[np.ndarray, np.ndarray]:
    floor = np.floor(coordinates)
    weights = _cubic_coefficients(coordinates - floor, _F32(cubic_coeff_a))
    indices = floor.astype(np.intp)[:, None] + np.arange(-1, 3)
    if exclude_outside:
        weights = np.where((indices >= 0) & (indices < in_size), weights, _F32(0))
        # When no neighbour is inside (a coordinate past the edge), the weights are 0 / 0 = NaN, as in
        # onnxruntime and in the ONNX reference implementation.
        with np.errstate(invalid="ignore", divide="ignore"):
            weights = weights / weights.sum(axis=1, keepdims=True, dtype=_F32)
    # Neighbours outside the input read the edge value.
    return np.clip(indices, 0, in_size - 1), weights


def _triangle(t: np.ndarray) -> np.ndarray:
    return np.maximum(_F32(0), _F32(1) - np.abs(t))


def _keys_cubic(cubic_coeff_a: float) -> Callable[[np.ndarray], np.ndarray]:
    a = _F32(cubic_coeff_a)

    def keys(t: np.ndarray) -> np.ndarray:
        t = np.abs(t)
        inner = ((a + _F32(2)) * t - (a + _F32(3))) * t * t + _F32(1)
        outer = (((t - _F32(5)) * t + _F32(8)) * t - _F32(4)) * a
        return np.where(t < 1, inner, np.where(t < 2, outer, _F32(0))).astype(_F32)

    return keys


def _antialias_taps(
    coordinates: np.ndarray,
    plan: _AxisPlan,
    filter_function: Callable[[np.ndarray], np.ndarray],
    support: float,
    exclude_outside: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Filter taps stretched by ``1 / scale`` when downscaling (Pillow's resampling, as onnxruntime does).

    Every input index within ``support / scale`` of the coordinate contributes ``filter(distance * scale)``;
    the weights are normalised to sum to one.  Taps outside the input read the edge value, or with
    ``exclude_outside`` are dropped before normalising.
    """
    stretch = max(_F32(1), _F32(1) / plan.scale)
    reach = _F32(support) * stretch
    centre = coordinates + _F32(0.5)
    first = np.floor(centre - reach + _F32(0.5)).astype(np.intp)
    stop = np.floor(centre + reach + _F32(0.5)).astype(np.intp)
    if exclude_outside:
        first, stop = np.maximum(first, 0), np.minimum(stop, plan.in_size)
    width = int(max(1, (stop - first).max(initial=1)))
    indices = first[:, None] + np.arange(width)
    distance = (indices.astype(_F32) - centre[:, None] + _F32(0.5)) * (_F32(1) / stretch)
    weights = np.where(indices < stop[:, None], filter_function(distance), _F32(0))
    total = weights.sum(axis=1, keepdims=True, dtype=_F32)
    # An output whose window misses every tap keeps zero weights (onnxruntime divides by 1 there).
    weights = weights * (_F32(1) / np.where(total == 0, _F32(1), total))
    return np.clip(indices, 0, plan.in_size - 1), weights


def _tap_function(
    mode: str, cubic_coeff_a: float, exclude_outside: bool, antialias: bool
) -> Callable[[np.ndarray, _AxisPlan], tuple[np.ndarray, np.ndarray]]:
    """The ``(coordinates, plan) -> (indices, weights)`` rule of an interpolating mode."""
    if antialias:
        filter_function = _triangle if mode == "linear" else _keys_cubic(cubic_coeff_a)
        support = 1.0 if mode == "linear" else 2.0
        return lambda coordinates, plan: _antialias_taps(coordinates, plan, filter_function, support, exclude_outside)
    if mode == "linear":
        return lambda coordinates, plan: _linear_taps(coordinates, plan.in_size)
    return lambda coordinates, plan: _cubic_taps(coordinates, plan.in_size, cubic_coeff_a, exclude_outside)


# ----------------------------------------------------------------------------------------------------------------
# Applying one axis, and extrapolation
# ----------------------------------------------------------------------------------------------------------------


def _weighted_gather(data: np.ndarray, axis: int, indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``out[..., o, ...] = sum_j weights[o, j] * data[..., indices[o, j], ...]`` along ``axis``."""
    broadcast = (-1,) + (1,) * (data.ndim - axis - 1)
    weights = weights.astype(data.dtype, copy=False)
    result = np.take(data, indices[:, 0], axis=axis)
    result *= weights[:, 0].reshape(broadcast)
    for tap in range(1, indices.shape[1]):
        term = np.take(data, indices[:, tap], axis=axis)
        term *= weights[:, tap].reshape(broadcast)
        result += term
    return result


#: The fast path's interpolation matrix ``(out, in)`` of one axis is used up to this many elements (16 MiB of
#: float32); longer axes go through :func:`_weighted_gather`.
_MATRIX_ELEMENTS = 1 << 22


def _matrix_pass_applies(data: np.ndarray, plan: _AxisPlan) -> bool:
    """Whether an axis may be resized by :func:`_matrix_pass`: a bounded matrix, and finite data (the matrix's
    zero weights times an infinity would be NaN where the gather reads only the taps)."""
    return plan.out_size * plan.in_size <= _MATRIX_ELEMENTS and bool(np.isfinite(data).all())


def _matrix_pass(data: np.ndarray, indices: np.ndarray, weights: np.ndarray, in_size: int) -> np.ndarray:
    """The fast path of :func:`_weighted_gather` on the last axis: the taps and weights as a matrix, one GEMM.

    ``M[o, i]`` is the sum of the weights of output ``o``'s taps that read input ``i`` (clamped taps at an edge
    read one index several times); the pass is ``data @ M.T`` in blocks of rows, each product small enough that
    BLAS runs it on the calling thread: on the busy 2-core machine this was measured on, OpenBLAS's two-thread
    GEMM of a whole 21x64x64 score map took 14-28 ms (median; a thread waiting for a core) against 0.3-1.6 ms.
    The result is the gather's weighted sum plus exact zeros, in the data's dtype; BLAS sums the two to four
    products in its own order and may fuse a multiply-add, so the two paths differ by about one rounding.
    Finite data only: see :func:`_matrix_pass_applies`.
    """
    out_size = indices.shape[0]
    matrix = np.zeros((out_size, in_size), dtype=data.dtype)
    rows = np.arange(out_size)
    for tap in range(indices.shape[1]):  # one tap has each row once, so += adds every weight
        matrix[rows, indices[:, tap]] += weights[:, tap].astype(data.dtype, copy=False)
    right = np.ascontiguousarray(matrix.T)
    flat = data.reshape(-1, in_size)
    out = np.empty((flat.shape[0], out_size), dtype=data.dtype)
    # OpenBLAS runs a GEMM of at most 2**18 multiply-adds on the calling thread (interface/gemm.c:
    # MNK <= SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD = 65536 * 4); numpy's stacked matmul makes one
    # such call per block of rows.
    block = max(1, (1 << 18) // max(1, int(in_size) * int(out_size)))
    whole = flat.shape[0] - flat.shape[0] % block
    if whole:
        blocks = out[:whole].reshape(-1, block, out_size)
        np.matmul(flat[:whole].reshape(-1, block, in_size), right, out=blocks)
    if whole < flat.shape[0]:
        np.matmul(flat[whole:], right, out=out[whole:])
    return out.reshape(*data.shape[:-1], out_size)


#: Bytes of output rows :func:`_row_pass` fills per block (about L2-sized): the block and its temporary stay in
#: cache between the gather, the multiply and the add.
_ROW_BLOCK_BYTES = 1 << 18


def _row_pass(data: np.ndarray, axis: int, indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`_weighted_gather` along an axis that is not the last, block by block into preallocated memory.

    For each block of output rows (of one index of the leading axes): gather the rows of tap 0 into the output,
    multiply by their weights, then gather, weigh and add every further tap, as the oracle does (the same float
    operations in the same order, so the same values); the block is small enough to stay in cache.  The indices
    are in range already; ``mode="clip"`` only spares numpy's buffered copy of a checked ``take`` into ``out``.
    """
    out_size, tap_count = indices.shape
    outer = int(np.prod(data.shape[:axis], dtype=np.int64))
    inner = int(np.prod(data.shape[axis + 1 :], dtype=np.int64))
    source = data.reshape(outer, data.shape[axis], inner)
    out = np.empty((outer, out_size, inner), dtype=data.dtype)
    block = max(1, _ROW_BLOCK_BYTES // max(1, inner * data.itemsize))
    scratch = np.empty((min(block, out_size), inner), dtype=data.dtype)
    column_weights = weights.astype(data.dtype, copy=False)[:, :, None]
    for item in range(outer):
        rows = source[item]
        for first in range(0, out_size, block):
            stop = min(out_size, first + block)
            target, term = out[item, first:stop], scratch[: stop - first]
            np.take(rows, indices[first:stop, 0], axis=0, out=target, mode="clip")
            target *= column_weights[first:stop, 0]
            for tap in range(1, tap_count):
                np.take(rows, indices[first:stop, tap], axis=0, out=term, mode="clip")
                term *= column_weights[first:stop, tap]
                target += term
    return out.reshape(*data.shape[:axis], out_size, *data.shape[axis + 1 :])


def _fill_outside(result: np.ndarray, outside_masks: dict[int, np.ndarray], value: float) -> np.ndarray:
    """Set every output whose coordinate on any resized axis fell outside the input to ``value``."""
    outside = np.zeros((1,) * result.ndim, dtype=bool)
    for axis, mask in outside_masks.items():
        shape = [1] * result.ndim
        shape[axis] = -1
        outside = outside | mask.reshape(shape)
    return np.where(outside, np.asarray(value, dtype=result.dtype), result)
