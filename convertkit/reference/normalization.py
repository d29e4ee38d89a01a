"""Reference normalisation kernels in NumPy: LRN (ONNX, Caffe ACROSS_CHANNELS and WITHIN_CHANNEL), softmax, and
batch normalisation at inference (ONNX BatchNormalization, Caffe BatchNorm).

* **LRN across channels** (ONNX ``LRN``; Caffe ``norm_region: ACROSS_CHANNELS``):
  ``y = x * (bias + alpha / size * sum_{c' in window(c)} x[c']^2) ^ -beta``, the window running from
  ``c - floor((size - 1) / 2)`` to ``c + ceil((size - 1) / 2)`` (centred for odd sizes, zero outside ``[0, C)``).
  Both divide alpha by ``size`` (Caffe: ``alpha_over_size = alpha_ / size_`` in ``CrossChannelForward_cpu``), so
  Caffe's ``local_size, alpha, beta, k`` are ONNX's ``size, alpha, beta, bias``.
* **LRN within channel** (Caffe only): Caffe builds it from layers (``src/caffe/layers/lrn_layer.cpp``,
  ``LayerSetUp``): square, an AVE Pooling of kernel ``local_size``, stride 1, pad ``(local_size - 1) / 2``, then
  ``Power(power=-beta, scale=alpha, shift=1)``, then the product with ``x``.  Two consequences: ``k`` is *not*
  used (the shift is the constant 1), and the divisor is Caffe's AVE divisor, which here is ``local_size^2``
  everywhere (with stride 1 and pad ``(n - 1) / 2`` every window lies inside ``[-pad, in + pad)``): padded
  cells count, so border outputs are divided by ``n^2`` although fewer squares were summed.
* **Softmax** over one axis: Caffe's ``Softmax(axis)`` and ONNX opset >= 13.  ONNX opsets < 13 flatten the input
  to 2-D at ``axis`` and normalise over everything after it (:func:`softmax_flattened`).
* **Batch normalisation**: ``y = (x - mean) / sqrt(var + eps) * scale + bias`` per channel.  :func:`batch_norm`
  evaluates it in onnxruntime's float32 order, which is bit-for-bit onnxruntime's result (the textbook order is
  1 ulp off in about half the elements); :func:`batch_norm_by_formula` is the textbook formula in float64.

The LRN fast paths sum the squares with one shifted slice per window tap; :func:`lrn_by_window` is the oracle,
one channel's window at a time in float64.
"""

from __future__ import annotations

import numpy as np

from convertkit.errors import ValidationError

from ._arguments import check_float_input
from .pooling import caffe_pool

__all__ = [
    "lrn",
    "lrn_by_window",
    "caffe_lrn",
    "softmax",
    "softmax_flattened",
    "batch_norm",
    "batch_norm_by_formula",
    "caffe_batch_norm",
    "caffe_batch_norm_statistics",
]

_NORM_REGIONS = ("ACROSS_CHANNELS", "WITHIN_CHANNEL")


# ----------------------------------------------------------------------------------------------------------------
# LRN
# ----------------------------------------------------------------------------------------------------------------


def _check_lrn(op: str, x: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    x = check_float_input(op, x, min_rank=2)
    size = int(size)
    if size < 1:
        raise ValidationError(f"{op}: size must be >= 1, got {size}")
    return x, size


def _channel_window(size: int) -> tuple[int, int]:
    """Channels before and after ``c`` in the window: ``floor((size - 1) / 2)`` and ``ceil((size - 1) / 2)``."""
    return (size - 1) // 2, size - 1 - (size - 1) // 2


def lrn(x: np.ndarray, *, size: int, alpha: float = 1e-4, beta: float = 0.75, bias: float = 1.0) -> np.ndarray:
    """ONNX LRN (= Caffe LRN ACROSS_CHANNELS with ``local_size=size, k=bias``), fast path.

    ``x`` is ``(N, C, *spatial)``.  Computed as Caffe and onnxruntime do: ``scale = bias + (alpha / size) * sum``,
    then ``y = x * scale ** -beta``, in ``x.dtype``.
    """
    x, size = _check_lrn("LRN", x, size)
    before, _after = _channel_window(size)
    dtype = x.dtype.type
    squares = np.zeros((x.shape[0], x.shape[1] + size - 1, *x.shape[2:]), dtype=x.dtype)
    np.square(x, out=squares[:, before : before + x.shape[1]])
    channels = x.shape[1]
    total = squares[:, 0:channels].copy()
    for j in range(1, size):
        total += squares[:, j : j + channels]
    alpha_over_size = dtype(alpha) / dtype(size)  # in x.dtype, as Caffe's Dtype and onnxruntime's float divide
    scale = dtype(bias) + alpha_over_size * total
    return x * scale ** dtype(-beta)


def lrn_by_window(
    x: np.ndarray, *, size: int, alpha: float = 1e-4, beta: float = 0.75, bias: float = 1.0
) -> np.ndarray:
    """ONNX LRN by its definition, one channel at a time in float64 (the oracle): ``x / (bias + alpha / size *
    sum of the window's squares) ** beta``, the window clipped to ``[0, C)``."""
    x, size = _check_lrn("LRN", x, size)
    before, after = _channel_window(size)
    x64 = x.astype(np.float64)
    out = np.empty_like(x64)
    for c in range(x.shape[1]):
        window = x64[:, max(0, c - before) : min(x.shape[1], c + after + 1)]
        square_sum = np.sum(window * window, axis=1)
        out[:, c] = x64[:, c] / (bias + alpha / size * square_sum) ** beta
    return out.astype(x.dtype)


def caffe_lrn(
    x: np.ndarray,
    *,
    local_size: int = 5,
    alpha: float = 1.0,
    beta: float = 0.75,
    k: float = 1.0,
    norm_region: str = "ACROSS_CHANNELS",
) -> np.ndarray:
    """Caffe LRN; defaults are ``LRNParameter``'s.  ``x`` is ``(N, C, H, W)`` (Caffe CHECKs 4 axes).

    ACROSS_CHANNELS is :func:`lrn` with ``size=local_size, bias=k``.  WITHIN_CHANNEL is Caffe's chain of layers
    (``lrn_layer.cpp``): ``pooled = AVE Pooling(x^2, kernel local_size, stride 1, pad (local_size - 1) / 2)``
    with Caffe's divisor rule (:func:`convertkit.reference.caffe_pool`), then ``y = x * (1 + alpha * pooled) **
    -beta``; ``k`` is ignored there, as in Caffe.  ``local_size`` must be odd (Caffe CHECKs it).
    """
    x = check_float_input("Caffe LRN", x, min_rank=4)
    if x.ndim != 4:
        raise ValidationError(f"Caffe LRN: input must have 4 axes (N, C, H, W), got shape {list(x.shape)}")
    local_size = int(local_size)
    if local_size < 1 or local_size % 2 == 0:
        # lrn_layer.cpp: CHECK_EQ(size_ % 2, 1) << "LRN only supports odd values for local_size"
        raise ValidationError(f"Caffe LRN: local_size must be a positive odd number, got {local_size}")
    if norm_region not in _NORM_REGIONS:
        raise ValidationError(f"Caffe LRN: norm_region must be ACROSS_CHANNELS or WITHIN_CHANNEL, not {norm_region!r}")
    if norm_region == "ACROSS_CHANNELS":
        return lrn(x, size=local_size, alpha=alpha, beta=beta, bias=k)
    # lrn_layer.cpp, LayerSetUp for WITHIN_CHANNEL: a PowerLayer squares, a PoolingLayer (AVE, pad pre_pad_ =
    # (size_ - 1) / 2, kernel size_) averages, a PowerLayer computes (1 + alpha * s) ^ -beta ("shift 1": k_ is
    # not used), an EltwiseLayer (PROD) multiplies by the input.
    pad = (local_size - 1) // 2
    dtype = x.dtype.type
    squares = x * x
    pooled = caffe_pool(squares, pool="AVE", kernel_shape=(local_size,) * 2, strides=(1, 1), pads=(pad,) * 4)
    power = (dtype(alpha) * pooled + dtype(1)) ** dtype(-beta)  # PowerLayer: scale, then shift, then powx
    return x * power


# ----------------------------------------------------------------------------------------------------------------
# Softmax
# ----------------------------------------------------------------------------------------------------------------


def _axis(op: str, x: np.ndarray, axis: int) -> int:
    if not -x.ndim <= int(axis) < x.ndim:
        raise ValidationError(f"{op}: axis {axis} is out of range for an input of rank {x.ndim}")
    return int(axis) % x.ndim


def softmax(x: np.ndarray, *, axis: int) -> np.ndarray:
    """Softmax along one axis (negative counts from the end): Caffe ``Softmax`` (default axis 1) and ONNX opset
    >= 13 (default axis -1).  ``exp(x - max) / sum(exp(x - max))``, the max subtracted as Caffe and onnxruntime do."""
    x = check_float_input("Softmax", x, min_rank=1)
    axis = _axis("Softmax", x, axis)
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def softmax_flattened(x: np.ndarray, *, axis: int = 1) -> np.ndarray:
    """ONNX Softmax of opsets 1-12: the input read as a matrix ``(prod(shape[:axis]), prod(shape[axis:]))`` and
    each row normalised, i.e. over *all* axes from ``axis`` on.  Equals :func:`softmax` only when ``axis`` is
    the last non-trivial axis."""
    x = check_float_input("Softmax", x, min_rank=1)
    axis = _axis("Softmax", x, axis)
    rows = int(np.prod(x.shape[:axis]))
    return softmax(x.reshape(rows, -1), axis=1).reshape(x.shape)


# ----------------------------------------------------------------------------------------------------------------
# Batch normalisation (inference)
# ----------------------------------------------------------------------------------------------------------------


def _channel_vectors(
    op: str, x: np.ndarray, named: dict[str, np.ndarray | None], defaults: dict[str, float]
) -> dict[str, np.ndarray]:
    channels = x.shape[1]
    out = {}
    for name, value in named.items():
        array = np.full(channels, defaults[name], dtype=x.dtype) if value is None else np.asarray(value)
        if array.shape != (channels,):
            raise ValidationError(f"{op}: {name} must have shape (C,) = ({channels},), got {list(array.shape)}")
        out[name] = array.astype(x.dtype, copy=False)
    return out


def _per_channel(vector: np.ndarray, ndim: int) -> np.ndarray:
    return vector.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm(
    x: np.ndarray,
    *,
    mean: np.ndarray,
    var: np.ndarray,
    scale: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    epsilon: float = 1e-5,
) -> np.ndarray:
    """ONNX BatchNormalization at inference, in onnxruntime's float32 order (bit-for-bit its result).

    ``x`` is ``(N, C, ...)`` (rank >= 2); ``mean``, ``var``, ``scale`` (default ones), ``bias`` (default zeros) are
    ``(C,)``.  onnxruntime folds the per-channel constants first, ``inv_std = 1 / sqrt(var + epsilon)``,
    ``s = inv_std * scale``, ``b = bias - mean * s``, then computes ``y = x * s + b``.
    """
    x = check_float_input("BatchNormalization", x, min_rank=2)
    v = _channel_vectors(
        "BatchNormalization",
        x,
        {"mean": mean, "var": var, "scale": scale, "bias": bias},
        {"mean": 0.0, "var": 1.0, "scale": 1.0, "bias": 0.0},
    )
    dtype = x.dtype.type
    inv_std = dtype(1) / np.sqrt(v["var"] + dtype(epsilon))
    folded_scale = inv_std * v["scale"]
    folded_bias = v["bias"] - v["mean"] * folded_scale
    return x * _per_channel(folded_scale, x.ndim) + _per_channel(folded_bias, x.ndim)


def batch_norm_by_formula(
    x: np.ndarray,
    *,
    mean: np.ndarray,
    var: np.ndarray,
    scale: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    epsilon: float = 1e-5,
) -> np.ndarray:
    """``(x - mean) / sqrt(var + epsilon) * scale + bias`` in float64, returned in ``x.dtype`` (the oracle)."""
    x = check_float_input("BatchNormalization", x, min_rank=2)
    v = _channel_vectors(
        "BatchNormalization",
        x,
        {"mean": mean, "var": var, "scale": scale, "bias": bias},
        {"mean": 0.0, "var": 1.0, "scale": 1.0, "bias": 0.0},
    )
    r = {name: _per_channel(value.astype(np.float64), x.ndim) for name, value in v.items()}
    y = (x.astype(np.float64) - r["mean"]) / np.sqrt(r["var"] + epsilon) * r["scale"] + r["bias"]
    return y.astype(x.dtype)


def caffe_batch_norm_statistics(
    mean_blob: np.ndarray, variance_blob: np.ndarray, scale_factor_blob: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Caffe BatchNorm's stored blobs -> ``(mean, var)``: both divided by the moving-average factor.

    ``batch_norm_layer.cpp`` (use_global_stats): ``scale_factor = blobs_[2][0] == 0 ? 0 : 1 / blobs_[2][0]``,
    then ``mean = scale_factor * blobs_[0]`` and ``variance = scale_factor * blobs_[1]``, in float32.
    """
    factor = np.asarray(scale_factor_blob, dtype=np.float32).reshape(-1)
    if factor.size != 1:
        raise ValidationError(
            f"Caffe BatchNorm: the third blob holds one value, got shape {list(np.shape(scale_factor_blob))}"
        )
    mean_blob = np.asarray(mean_blob, dtype=np.float32).reshape(-1)
    variance_blob = np.asarray(variance_blob, dtype=np.float32).reshape(-1)
    if mean_blob.shape != variance_blob.shape:
        raise ValidationError(
            f"Caffe BatchNorm: mean and variance blobs must have the same size, got {mean_blob.size} and "
            f"{variance_blob.size}"
        )
    multiplier = np.float32(0) if factor[0] == 0 else np.float32(1) / factor[0]
    return multiplier * mean_blob, multiplier * variance_blob


def caffe_batch_norm(
    x: np.ndarray,
    mean_blob: np.ndarray,
    variance_blob: np.ndarray,
    scale_factor_blob: np.ndarray,
    *,
    eps: float = 1e-5,
) -> np.ndarray:
    """Caffe BatchNorm at inference (``use_global_stats``; no scale or shift: a Caffe ``Scale`` layer follows).

    In Caffe's order (``batch_norm_layer.cpp`` Forward_cpu): subtract the mean, add ``eps`` to the variance,
    take its square root, divide.  ``eps`` defaults to ``BatchNormParameter``'s 1e-5.
    """
    x = check_float_input("Caffe BatchNorm", x, min_rank=2)
    mean, var = caffe_batch_norm_statistics(mean_blob, variance_blob, scale_factor_blob)
    if mean.size != x.shape[1]:
        raise ValidationError(f"Caffe BatchNorm: blobs hold {mean.size} channels, the input has {x.shape[1]}")
    dtype = x.dtype.type
    centred = x - _per_channel(mean.astype(x.dtype), x.ndim)
    std = np.sqrt(var.astype(x.dtype) + dtype(eps))
    return centred / _per_channel(std, x.ndim)
