"""Keras facet of ``BatchNorm``: ``BatchNormalization`` at inference (moving statistics), over the channel axis:
``(x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta`` (variables gamma if scale, beta if center,
then moving_mean, moving_variance)."""

from __future__ import annotations

from ...codec.keras import KerasLayer
from ...fillers import Values
from ...ir import Layer
from ...registry import KerasFacet
from .core import BatchNorm

CLASS_NAMES = ("BatchNormalization",)


def read(layer: KerasLayer) -> list[Layer]:
    x, _ = layer.only_input()
    axis = layer.get("axis", -1)
    if isinstance(axis, list):
        if len(axis) != 1:
            raise layer.error(f"axis {axis} normalises over several axes; convertkit reads one channel axis")
        axis = axis[0]
    if layer.ir_axis(int(axis)) != 1:
        raise layer.error(f"axis {axis} is not the channel axis; convertkit normalises per channel")
    layer.no_extra({"renorm": False})
    i = 0
    scale = bias = None
    if layer.get("scale", True):
        scale, i = layer.weight(i, "gamma"), i + 1
    if layer.get("center", True):
        bias, i = layer.weight(i, "beta"), i + 1
    mean, variance = layer.weight(i, "moving_mean"), layer.weight(i + 1, "moving_variance")
    return [
        BatchNorm(
            name=layer.name,
            input=x,
            output=layer.output,
            mean=Values(array=mean),
            variance=Values(array=variance),
            eps=float(layer.get("epsilon", 1e-3)),
            scale=None if scale is None else Values(array=scale),
            bias=None if bias is None else Values(array=bias),
        )
    ]


#: This kind's Keras facet, registered in the package's ``__init__``.
FACET: KerasFacet[BatchNorm] = KerasFacet(class_names=CLASS_NAMES, read=read)
