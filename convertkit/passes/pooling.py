"""Pooling's multi-layer form, defined once.

**Asymmetric pads** (Caffe export): Caffe pads symmetrically.  Where ``pad_begin != pad_end`` on an axis, a Pad
of ``|pad_begin - pad_end|`` cells on the side with the larger pad leaves the smaller pad on both sides, and the
windows stay where they were.  The cells that Pad adds are then input cells to the pooling, so it must not change
any window's result: for ``max`` the Pad repeats the edge (with dilation 1 every window is contiguous and holds an
input cell, so a window holding a repeated cell holds the edge cell it repeats); for ``average`` with
``count_include_pad`` it adds zeros (the padded cells counted anyway, and zeros add nothing to the sum).  The form
is used only where the output size stays the same (a window starting in the new cells would be kept, where the
original drops a window starting in its padding); ``average`` without ``count_include_pad`` has no such form.
"""

from __future__ import annotations

import dataclasses

from ..ir import Layer, TensorType
from ..layers.pad import Pad
from ..layers.pooling import Pooling
from . import ExportOptions, Fusion, Graph, Lowering

__all__ = ["LOWERINGS", "FUSIONS", "lower_asymmetric_pads"]


def lower_asymmetric_pads(
    layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions
) -> list[Layer] | None:
    """``Pooling`` with asymmetric pads -> ``Pad`` (edge for max, zeros for average) -> symmetric ``Pooling``."""
    if not isinstance(layer, Pooling) or layer.global_pooling or layer.kernel_shape is None:
        return None
    if layer.indices:
        return None  # a Pad would move the mask's plane indices: no such form for a mask
    n = len(layer.kernel_shape)
    begin, end = layer.pads[:n], layer.pads[n:]
    if begin == end or any(d != 1 for d in layer.dilations):
        return None
    if layer.method == "average" and not layer.count_include_pad:
        return None
    extra = tuple(max(0, b - e) for b, e in zip(begin, end, strict=True)) + tuple(
        max(0, e - b) for b, e in zip(begin, end, strict=True)
    )
    common = tuple(min(b, e) for b, e in zip(begin, end, strict=True))
    padded = graph.names.fresh(f"{layer.name}.pad")
    pad = Pad(
        name=padded,
        input=layer.input,
        output=padded,
        pads=extra,
        mode="edge" if layer.method == "max" else "constant",
    )
    pooled = dataclasses.replace(layer, input=padded, pads=common + common)
    padded_type = pad.infer(types)
    if pooled.infer(padded_type) != layer.infer(types):
        return None  # a window would start in the added cells: not this layer's windows
    return [pad, pooled]


LOWERINGS: dict[str, list[Lowering]] = {"caffe": [lower_asymmetric_pads]}
FUSIONS: dict[str, list[tuple[int, Fusion]]] = {}
