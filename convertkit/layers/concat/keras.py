"""Keras facet of ``Concat``: ``Concatenate(axis)``, the axis mapped to channels-first (channels_last's -1 is 1)."""

from __future__ import annotations

from ...codec.keras import KerasLayer
from ...ir import Layer
from ...registry import KerasFacet
from .core import Concat

CLASS_NAMES = ("Concatenate",)


def read(layer: KerasLayer) -> list[Layer]:
    axis = layer.ir_axis(int(layer.get("axis", -1)))
    return [Concat(name=layer.name, input_names=tuple(layer.inputs), output=layer.output, axis=axis)]


#: This kind's Keras facet, registered in the package's ``__init__``.
FACET: KerasFacet[Concat] = KerasFacet(class_names=CLASS_NAMES, read=read)
