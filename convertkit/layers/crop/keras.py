"""Keras facet of ``Crop``: ``Cropping1D`` / ``Cropping2D`` / ``Cropping3D`` (``(before, after)`` per spatial
axis) as a Crop of the spatial axes to the sizes left."""

from __future__ import annotations

from ...codec.keras import KerasLayer, pair_list
from ...errors import ValidationError
from ...ir import Layer
from ...registry import KerasFacet
from .core import Crop

CLASS_NAMES = ("Cropping1D", "Cropping2D", "Cropping3D")


def read(layer: KerasLayer) -> list[Layer]:
    layer.check_data_format()
    x, t = layer.only_input()
    n = layer.spatial_rank()
    pairs = pair_list(layer.get("cropping", 1), n, layer, "cropping")
    sizes = tuple(d - b - e for d, (b, e) in zip(t.shape[2:], pairs, strict=True))
    if any(s < 1 for s in sizes):
        raise layer.error(f"cropping {pairs} leaves nothing of {list(t.shape[2:])}", ValidationError)
    return [Crop(name=layer.name, input=x, output=layer.output, axis=2, offset=tuple(b for b, _ in pairs), shape=sizes)]


#: This kind's Keras facet, registered in the package's ``__init__``.
FACET: KerasFacet[Crop] = KerasFacet(class_names=CLASS_NAMES, read=read)
