"""Output-size and padding arithmetic: pure integer functions, one per convention.

All deconvolution maths in convertkit runs on *explicit* pads ``(begin, end)`` plus ``output_padding`` per spatial
axis, in ONNX terms.  Each function below turns one convention users arrive with into that form, per axis.
Symbols: ``i`` input size, ``k`` kernel size, ``s`` stride, ``d`` dilation, ``op`` output_padding,
``pb``/``pe`` pad at the beginning/end, ``o`` output size, ``k_eff = d * (k - 1) + 1``.
"""

from __future__ import annotations

import math

from .errors import ValidationError

__all__ = [
    "output_padding_violation",
    "effective_kernel",
    "conv_output_size",
    "conv_transpose_output_size",
    "conv_transpose_full_size",
    "caffe_deconv_output_size",
    "caffe_conv_output_size",
    "onnx_auto_pad_pads",
    "onnx_inferred_auto_pad_size",
    "onnx_output_shape_pads",
    "tf_conv_transpose_pads",
    "tf_conv_transpose_output_size",
    "pytorch_conv_transpose_pads",
    "resize_output_size",
    "exact_resize_output_size",
    "bilinear_upsample_recipe",
]


def output_padding_violation(
    output_padding: tuple[int, ...], strides: tuple[int, ...], dilations: tuple[int, ...]
) -> int | None:
    """The first axis where ``output_padding`` breaks PyTorch's rule ``op < max(s, d)``, or None.

    The rows output_padding appends lie past the scatter; PyTorch allows fewer than ``max(stride, dilation)``
    (onnxruntime only fewer than ``stride``: convertkit exports the rest exactly as a Pad).  The layer and the
    public reference apply this one rule.
    """
    for a, (op, s, d) in enumerate(zip(output_padding, strides, dilations, strict=True)):
        if op >= s and op >= d:
            return a
    return None


def effective_kernel(k: int, d: int = 1) -> int:
    """Extent of a dilated kernel: ``k_eff = d * (k - 1) + 1``."""
    return d * (k - 1) + 1


def conv_output_size(i: int, k: int, s: int = 1, pb: int = 0, pe: int = 0, d: int = 1) -> int:
    """Forward convolution: ``o = floor((i + pb + pe - k_eff) / s) + 1``."""
    return (i + pb + pe - effective_kernel(k, d)) // s + 1


def conv_transpose_full_size(i: int, k: int, s: int = 1, d: int = 1) -> int:
    """Extent of the scatter before cropping: ``s * (i - 1) + k_eff``."""
    return s * (i - 1) + effective_kernel(k, d)


def conv_transpose_output_size(i: int, k: int, s: int = 1, pb: int = 0, pe: int = 0, d: int = 1, op: int = 0) -> int:
    """ONNX ConvTranspose with explicit pads: ``o = s * (i - 1) + op + k_eff - pb - pe``."""
    return s * (i - 1) + op + effective_kernel(k, d) - pb - pe


def caffe_deconv_output_size(i: int, k: int, s: int = 1, pad: int = 0, d: int = 1) -> int:
    """Caffe Deconvolution (symmetric pad, no output_padding): ``o = s * (i - 1) + k_eff - 2 * pad``."""
    return conv_transpose_output_size(i, k, s, pad, pad, d)


def caffe_conv_output_size(i: int, k: int, s: int = 1, pad: int = 0, d: int = 1) -> int:
    """Caffe Convolution: ``o = floor((i + 2 * pad - k_eff) / s) + 1``."""
    return conv_output_size(i, k, s, pad, pad, d)


def _split_total(total: int, extra_at_end: bool) -> tuple[int, int]:
    small = total // 2
    return (small, total - small) if extra_at_end else (total - small, small)


def onnx_auto_pad_pads(i: int, k: int, s: int, d: int, op: int, auto_pad: str) -> tuple[int, int, int]:
    """ONNX ConvTranspose ``auto_pad`` -> ``(pb, pe, op)``, as current onnxruntime computes it.

    ``VALID``: ``pb = pe = 0``, so ``o = s * (i - 1) + op + k_eff``.
    ``SAME_UPPER`` / ``SAME_LOWER``: ``o = i * s`` and
    ``total = s * (i - 1) + op + k_eff - o``; ``SAME_UPPER`` puts the odd pad at the end
    (``pb = total // 2``), ``SAME_LOWER`` at the beginning (``pe = total // 2``).  When ``total < 0`` (effective
    kernel smaller than stride) onnxruntime clamps the pads to zero and returns the unpadded
    ``s * (i - 1) + op + k_eff`` rows, *not* ``i * s`` as onnx shape inference claims; we follow onnxruntime.
    """
    if auto_pad in ("NOTSET", "VALID"):
        return 0, 0, op
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise ValueError(f"auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, not {auto_pad!r}")
    total = s * (i - 1) + op + effective_kernel(k, d) - i * s
    if total < 0:
        return 0, 0, op
    pb, pe = _split_total(total, extra_at_end=(auto_pad == "SAME_UPPER"))
    return pb, pe, op


def onnx_inferred_auto_pad_size(i: int, k: int, s: int, d: int = 1, op: int = 0) -> int:
    """ONNX ConvTranspose ``auto_pad`` SAME_UPPER / SAME_LOWER as onnx shape inference sizes it (measured, onnx 1.23).

    ``o = min(i * s, s * (i - 1) + k_eff) + op``: shape inference pads the scatter down to ``i * s`` *before*
    ``output_padding`` (no pads when the scatter is shorter) and then adds ``op``.  onnxruntime counts ``op`` in the
    total pad instead, ``o = min(i * s, s * (i - 1) + k_eff + op)`` (:func:`onnx_auto_pad_pads`), so the two
    disagree whenever ``op > 0`` and ``s * (i - 1) + k_eff + op > i * s``; exporters that trust shape inference
    declare this size.
    """
    return min(i * s, conv_transpose_full_size(i, k, s, d)) + op


def onnx_output_shape_pads(
    i: int, k: int, s: int, d: int, op: int, o: int, auto_pad: str = "NOTSET"
) -> tuple[int, int, int]:
    """ONNX ConvTranspose ``output_shape`` -> ``(pb, pe, op)``, as current onnxruntime computes it.

    ``total = s * (i - 1) + op + k_eff - o``.  With ``auto_pad`` NOTSET or SAME_LOWER the odd pad goes to the
    beginning (``pe = total // 2``); with SAME_UPPER to the end.  (The ONNX text says SAME_UPPER-like for NOTSET;
    onnxruntime 1.2x puts it at the beginning, and so do we.)  A negative total means the requested output is
    larger than the scatter: the extra rows at the end receive bias only, returned as extra ``output_padding``.
    """
    total = s * (i - 1) + op + effective_kernel(k, d) - o
    if total < 0:
        return 0, 0, op - total
    pb, pe = _split_total(total, extra_at_end=(auto_pad == "SAME_UPPER"))
    return pb, pe, op


def tf_conv_transpose_pads(i: int, k: int, s: int, d: int, o: int, padding: str) -> tuple[int, int, int]:
    """TensorFlow ``conv{1,2,3}d_transpose(padding=SAME|VALID, output_shape=...)`` -> ``(pb, pe, op)``.

    TF defines the transpose through the forward convolution from ``o`` back to ``i``: VALID pads nothing,
    SAME pads ``total_f = max((ceil(o / s) - 1) * s + k_eff - o, 0)`` with ``pb = total_f // 2`` (extra at the end).
    The transposed scatter has ``s * (i - 1) + k_eff`` rows; cropping ``pb`` at the beginning leaves
    ``pe' = s * (i - 1) + k_eff - pb - o`` to crop at the end, or ``-pe'`` zero rows to add
    (``output_padding``) when negative.  ``o`` must map back to ``i`` under the forward rule.
    """
    k_eff = effective_kernel(k, d)
    if padding == "VALID":
        pb = 0
        expected = conv_output_size(o, k, s, 0, 0, d)
    elif padding == "SAME":
        total_f = max((math.ceil(o / s) - 1) * s + k_eff - o, 0)
        pb = total_f // 2
        expected = math.ceil(o / s)
    else:
        raise ValueError(f"TensorFlow padding must be SAME or VALID, not {padding!r}")
    if expected != i:
        raise ValueError(
            f"TensorFlow {padding} output size {o} maps back to input size {expected}, not {i} "
            f"(kernel {k}, stride {s}, dilation {d})"
        )
    rest = s * (i - 1) + k_eff - pb - o
    return (pb, rest, 0) if rest >= 0 else (pb, 0, -rest)


def tf_conv_transpose_output_size(i: int, k: int, s: int, d: int, padding: str) -> int:
    """The ``output_shape`` TensorFlow/Keras give ``conv_transpose`` when none is asked for (no output_padding).

    ``SAME``: ``o = i * s``; ``VALID``: ``o = i * s + max(k_eff - s, 0)`` (Keras ``deconv_output_length``).
    :func:`tf_conv_transpose_pads` turns it into pads.
    """
    if padding == "SAME":
        return i * s
    if padding == "VALID":
        return i * s + max(effective_kernel(k, d) - s, 0)
    raise ValueError(f"TensorFlow padding must be SAME or VALID, not {padding!r}")


def pytorch_conv_transpose_pads(padding: int, output_padding: int = 0) -> tuple[int, int, int]:
    """PyTorch ``ConvTranspose(padding=p, output_padding=op)`` -> ``(p, p, op)``.

    ``o = (i - 1) * s - 2 * p + d * (k - 1) + op + 1``; PyTorch requires ``op < s or op < d``.
    """
    return padding, padding, output_padding


def resize_output_size(i: int, scale: float) -> int:
    """ONNX Resize with ``scales``: ``o = floor(i * scale)``, multiplied in float32 as onnxruntime does.

    onnxruntime computes ``static_cast<int64_t>(scale_f32 * i)`` in float32, which can round up to the next
    integer where exact arithmetic would not (``floor(10 * 0.7f)`` is 7 there); the reference and the shape rule
    follow it so that every backend agrees on the size.
    """
    import numpy as np

    product = np.float32(scale) * np.float32(i)
    if not (math.isfinite(float(scale)) and np.isfinite(product)) or scale <= 0:
        raise ValidationError(
            f"Resize: scale {float(scale)!r} on an axis of size {i} gives no output size (floor(size * scale) needs a "
            "finite positive scale); give finite positive scales or sizes"
        )
    return int(np.floor(product))


def exact_resize_output_size(i: int, scale: float) -> int:
    """``floor(i * scale)`` in exact arithmetic, as onnx shape inference computes it.

    Where this differs from :func:`resize_output_size`, ONNX readers disagree on the output size.
    """
    from fractions import Fraction

    if not math.isfinite(scale) or scale <= 0:
        raise ValidationError(f"Resize: scale {float(scale)!r} must be a finite positive number")

    return math.floor(Fraction(i) * Fraction(scale))


def bilinear_upsample_recipe(f: int) -> tuple[int, int, int]:
    """Caffe's bilinear upsampling recipe for integer factor ``f`` -> ``(kernel, stride, pad)``.

    ``kernel = 2f - f % 2``, ``stride = f``, ``pad = ceil((f - 1) / 2)``; the output is exactly ``f * i``.
    """
    return 2 * f - f % 2, f, math.ceil((f - 1) / 2)


# ----------------------------------------------------------------------------------------------------------------
# Pooling output sizes (forward windows; the convolution sizes above cover Conv and Caffe Convolution)
# ----------------------------------------------------------------------------------------------------------------

__all__ += ["caffe_pool_output_size", "onnx_pool_output_size"]


def caffe_pool_output_size(
    i: int, k: int, s: int = 1, pad: int = 0, round_mode: str = "CEIL", padded: bool | None = None
) -> int:
    """Caffe Pooling: ``o = ceil((i + 2 * pad - k) / s) + 1`` (``floor`` with ``round_mode: FLOOR``), then
    ``o -= 1`` if the layer is padded and the last window starts in the padding or past it, ``(o - 1) * s >= i + pad``.

    ``padded`` is whether the *layer* pads on any axis (default: ``pad > 0``): Caffe tests ``pad_h || pad_w`` and
    then applies the rule to both axes, so an unpadded axis of a padded layer drops a last window that starts past
    the input too.  Caffe rounds *up* by default, so the last window may hang over the padded input.  In a layer
    without any padding the last window is kept even when it starts past the input (``s > k``): Caffe then pools
    an empty window.  Global pooling is ``k = i, pad = 0, s = 1``.  (Caffe divides in float,
    ``ceil(float(i + 2 * pad - k) / s)``; equal to the integer division here below 2**24.)
    """
    if round_mode not in ("CEIL", "FLOOR"):
        raise ValueError(f"Caffe Pooling round_mode must be CEIL or FLOOR, not {round_mode!r}")
    # BVLC caffe, src/caffe/layers/pooling_layer.cpp, PoolingLayer::Reshape:
    #   pooled_height_ = static_cast<int>(ceil(static_cast<float>(height_ + 2 * pad_h_ - kernel_h_) / stride_h_)) + 1;
    #   if (pad_h_ || pad_w_) { if ((pooled_height_ - 1) * stride_h_ >= height_ + pad_h_) --pooled_height_;
    #                           if ((pooled_width_ - 1) * stride_w_ >= width_ + pad_w_) --pooled_width_; }
    # ("ensure that the last pooling starts strictly inside the image (instead of at the padding)").
    span = i + 2 * pad - k
    o = (-(-span // s) if round_mode == "CEIL" else span // s) + 1
    if (pad > 0 if padded is None else padded) and (o - 1) * s >= i + pad:
        o -= 1
    return o


def onnx_pool_output_size(i: int, k: int, s: int = 1, pb: int = 0, pe: int = 0, d: int = 1, ceil_mode: int = 0) -> int:
    """ONNX MaxPool / AveragePool with explicit pads: ``o = floor((i + pb + pe - k_eff) / s) + 1``, or with
    ``ceil_mode`` ``o = ceil((i + pb + pe - k_eff) / s) + 1`` and then ``o -= 1`` if the last window starts in
    the end padding or past it, ``(o - 1) * s >= i + pb``.

    The drop rule is the ONNX text's "sliding windows that would start in the right padded region are ignored",
    as onnxruntime and ``onnx.reference`` implement it: unlike Caffe's rule it applies without padding too.
    """
    span = i + pb + pe - effective_kernel(k, d)
    if not ceil_mode:
        return span // s + 1
    o = -(-span // s) + 1
    if (o - 1) * s >= i + pb:
        o -= 1
    return o
