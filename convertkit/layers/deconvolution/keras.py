"""Keras facet of ``Deconvolution``: ``Conv1DTranspose`` / ``Conv2DTranspose`` / ``Conv3DTranspose`` (padding
same/valid, output_padding, strides, dilation_rate, use_bias) with the ``activation`` argument as an Activation.

Keras (TensorFlow backend) computes the output size with ``deconv_output_length`` (keras/src/utils/
conv_utils.py / keras/src/backend/common/backend_utils.py): without output_padding ``i * s`` (same) or
``i * s + max(k_eff - s, 0)`` (valid); with it ``(i - 1) * s + k_eff - 2 * pad + output_padding``, ``pad`` being
``k_eff // 2`` (same) or 0 (valid); then calls ``tf.nn.conv_transpose`` with that ``output_shape`` and the padding
string.  That is the IR's ``tensorflow`` padding convention with the computed ``output_shape``.  The kernel
``(k..., M, C)`` becomes ``(C, M, k...)``.
"""

from __future__ import annotations

from ... import shapes
from ...codec.keras import KerasLayer, conv_transpose_kernel
from ...fillers import Values
from ...ir import Layer
from ...registry import KerasFacet
from ..activation.keras import activation_after
from .core import Deconvolution, Padding

CLASS_NAMES = ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")


def keras_output_length(i: int, k: int, s: int, d: int, padding: str, output_padding: int | None) -> int:
    """Keras's ``deconv_output_length``."""
    k_eff = shapes.effective_kernel(k, d)
    if output_padding is None:
        return shapes.tf_conv_transpose_output_size(i, k, s, d, padding.upper())
    pad = k_eff // 2 if padding == "same" else 0
    return (i - 1) * s + k_eff - 2 * pad + output_padding


def read(layer: KerasLayer) -> list[Layer]:
    layer.check_data_format()
    x, t = layer.only_input()
    n = layer.spatial_rank()
    kernel, k, strides, dilations, padding = layer.kernel_options(n)
    if padding not in ("same", "valid"):
        raise layer.error(f"padding {padding!r} is not one of same, valid")
    given = layer.get("output_padding")
    ops: list[int | None] = [None] * n if given is None else [int(v) for v in given]
    out = tuple(keras_output_length(t.shape[2 + a], k[a], strides[a], dilations[a], padding, ops[a]) for a in range(n))
    bias = layer.bias()
    linear, act = activation_after(layer)
    deconv = Deconvolution(
        name=layer.name,
        input=x,
        output=linear,
        out_channels=int(kernel.shape[-2]),
        kernel_shape=k,
        strides=strides,
        dilations=dilations,
        padding=Padding(convention="tensorflow", auto_pad=padding.upper(), output_shape=out),
        bias_term=bias is not None,
        weight=Values(array=conv_transpose_kernel(kernel)),
        bias=None if bias is None else Values(array=bias),
    )
    return [deconv, *act]


#: This kind's Keras facet, registered in the package's ``__init__``.
FACET: KerasFacet[Deconvolution] = KerasFacet(class_names=CLASS_NAMES, read=read)
