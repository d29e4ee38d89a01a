"""Keras facet of ``Input``: ``InputLayer`` (the reader gives its channels-first shape, batch and unknown sizes
resolved)."""

from __future__ import annotations

from ...codec.keras import KerasLayer
from ...ir import Layer
from ...registry import KerasFacet
from .core import Input

CLASS_NAMES = ("InputLayer",)


def read(layer: KerasLayer) -> list[Layer]:
    (t,) = layer.in_types
    return [Input(name=layer.output, shape=t.shape, dtype=t.dtype)]


#: This kind's Keras facet, registered in the package's ``__init__``.
FACET: KerasFacet[Input] = KerasFacet(class_names=CLASS_NAMES, read=read)
