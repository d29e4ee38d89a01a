"""Keras facet of ``Convolution``: ``Conv1D`` / ``Conv2D`` / ``Conv3D`` (padding valid, same, causal; strides,
dilation_rate, groups, use_bias) with the ``activation`` argument as an Activation after it.

``same`` is TensorFlow's SAME: the total pad ``max((ceil(i / s) - 1) * s + k_eff - i, 0)``, its smaller half at the
beginning (the extra row at the end; tensorflow/core/framework/kernel_shape_util.cc GetWindowedOutputSizeVerbose),
made explicit for the static input size; ``causal`` pads ``k_eff - 1`` at the beginning only.  The kernel
``(k..., C / group, M)`` becomes ``(M, C / group, k...)``.
"""

from __future__ import annotations

import math

from ... import shapes
from ...codec.keras import KerasLayer, conv_kernel
from ...fillers import Values
from ...ir import Layer
from ...registry import KerasFacet
from ..activation.keras import activation_after
from .core import Convolution

CLASS_NAMES = ("Conv1D", "Conv2D", "Conv3D")


def tf_same_pads(i: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow SAME padding of a forward convolution: (begin, end), the extra row at the end."""
    total = max((math.ceil(i / s) - 1) * s + shapes.effective_kernel(k, d) - i, 0)
    return total // 2, total - total // 2


def read(layer: KerasLayer) -> list[Layer]:
    layer.check_data_format()
    x, t = layer.only_input()
    n = layer.spatial_rank()
    kernel, k, strides, dilations, padding = layer.kernel_options(n)
    spatial = t.shape[2:]
    if padding == "valid":
        pads = (0,) * (2 * n)
    elif padding == "same":
        pairs = [tf_same_pads(spatial[a], k[a], strides[a], dilations[a]) for a in range(n)]
        pads = tuple(p[0] for p in pairs) + tuple(p[1] for p in pairs)
    elif padding == "causal":
        pads = tuple(shapes.effective_kernel(k[a], dilations[a]) - 1 for a in range(n)) + (0,) * n
    else:
        raise layer.error(f"padding {padding!r} is not one of valid, same, causal")
    bias = layer.bias()
    linear, act = activation_after(layer)
    conv = Convolution(
        name=layer.name,
        input=x,
        output=linear,
        out_channels=int(kernel.shape[-1]),
        kernel_shape=k,
        strides=strides,
        dilations=dilations,
        pads=pads,
        group=int(layer.get("groups", 1)),
        bias_term=bias is not None,
        weight=Values(array=conv_kernel(kernel)),
        bias=None if bias is None else Values(array=bias),
    )
    return [conv, *act]


#: This kind's Keras facet, registered in the package's ``__init__``.
FACET: KerasFacet[Convolution] = KerasFacet(class_names=CLASS_NAMES, read=read)
