"""Keras facet of ``Pad``: ``ZeroPadding1D`` / ``ZeroPadding2D`` / ``ZeroPadding3D`` as a constant-0 Pad of the
spatial axes."""

from __future__ import annotations

from ...codec.keras import KerasLayer, pair_list
from ...ir import Layer
from ...registry import KerasFacet
from .core import Pad

CLASS_NAMES = ("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")


def read(layer: KerasLayer) -> list[Layer]:
    layer.check_data_format()
    x, _ = layer.only_input()
    n = layer.spatial_rank()
    pairs = pair_list(layer.get("padding", 1), n, layer, "padding")
    pads = tuple(b for b, _ in pairs) + tuple(e for _, e in pairs)
    return [Pad(name=layer.name, input=x, output=layer.output, pads=pads)]


#: This kind's Keras facet, registered in the package's ``__init__``.
FACET: KerasFacet[Pad] = KerasFacet(class_names=CLASS_NAMES, read=read)
