"""Pooling's multi-layer form, defined once.

**Asymmetric pads** (Caffe export): Caffe pads symmetrically.  Where ``pad_begin != pad_end`` on an axis, a Pad
of ``|pad_begin - pad_end|`` cells on the side with the larger pad leaves the smaller pad on both sides, and the
windows stay where they were.  The cells that Pad adds are then input cells to the pooling, so it must not change
any window's result: for ``max`` the Pad repeats the edge (with dilation 1 every window is contiguous and holds an
input cell, so a window holding a repeated cell holds the edge cell it repeats); for ``average`` with
``count_include_pad`` it adds zeros (the padded cells counted anyway, and zeros add nothing to the sum).  The form
is used only where the output size stays the same (a window starting in the new cells would be kept, where the
original drops a window starting in its padding); ``average`` without ``count_include_pad`` has no such form.

**Explicit average-pooling pads** (ONNX for OpenCV, :data:`convertkit.portability.FORMS` ``explicit_pooling_pads``):
OpenCV ignores AveragePool's ``count_include_pad`` (it divides by the input cells of a window).  An average with
``count_include_pad`` and pads is ``Pad`` (zeros, those pads) -> the average without pads and without
``count_include_pad``: each window sums the same cells, and its divisor, the cells of the window inside the padded
input, is what ``count_include_pad`` divides by (a ceil_mode window past the padded input counts its cells inside
it, as onnxruntime and Caffe do).  Used only where the output size stays the same; folded back on import.
"""

from __future__ import annotations

import dataclasses

from ..ir import Layer, TensorType
from ..layers.pad import Pad
from ..layers.pooling import Pooling
from . import ExportOptions, Fusion, Graph, Lowering

__all__ = ["LOWERINGS", "FUSIONS", "lower_asymmetric_pads", "lower_explicit_average_pads", "fuse_explicit_average_pads"]


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


def _explicit_candidate(layer: Layer) -> bool:
    return (
        isinstance(layer, Pooling)
        and layer.method == "average"
        and not layer.global_pooling
        and layer.kernel_shape is not None
        and not layer.indices
        and all(d == 1 for d in layer.dilations)
    )


def lower_explicit_average_pads(
    layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions
) -> list[Layer] | None:
    """``Pooling`` (average, count_include_pad, pads) -> ``Pad`` (zeros) -> the average without pads or
    count_include_pad, for the targets that need it (OpenCV ignores count_include_pad)."""
    from ..portability import needs_form

    if not needs_form(options.runtime, "explicit_pooling_pads") or not _explicit_candidate(layer):
        return None
    assert isinstance(layer, Pooling)
    if not layer.count_include_pad or not any(layer.pads):
        return None
    padded = graph.names.fresh(f"{layer.name}.pad")
    pad = Pad(name=padded, input=layer.input, output=padded, pads=tuple(layer.pads), mode="constant")
    want = layer.infer(types)
    for ceil_mode in dict.fromkeys((layer.ceil_mode, False)):  # floor where it gives the same windows
        pooled = dataclasses.replace(
            layer, input=padded, pads=(0,) * len(layer.pads), count_include_pad=False, ceil_mode=ceil_mode
        )
        if pooled.infer(pad.infer(types)) == want:
            return [pad, pooled]
    return None  # ceil_mode would keep a window that starts in the former end pad: not this layer's windows


def fuse_explicit_average_pads(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """``Pad`` (zeros) -> average ``Pooling`` without pads or count_include_pad: one average with those pads and
    count_include_pad (exact: :func:`lower_explicit_average_pads`); the fusion checks the output size."""
    if len(chain) < 2 or not isinstance(chain[0], Pad) or not _explicit_candidate(chain[1]):
        return None
    pad, pooled = chain[0], chain[1]
    assert isinstance(pooled, Pooling)
    if pad.mode != "constant" or pad.value != 0.0 or any(pooled.pads) or pooled.count_include_pad:
        return None
    if len(pad.pads) != 2 * len(pooled.kernel_shape or ()) or not any(pad.pads):
        return None
    fused = dataclasses.replace(pooled, input=pad.input, pads=tuple(pad.pads), count_include_pad=True)
    return fused, 2


LOWERINGS: dict[str, list[Lowering]] = {"caffe": [lower_asymmetric_pads], "onnx": [lower_explicit_average_pads]}
FUSIONS: dict[str, list[tuple[int, Fusion]]] = {"import": [(2, fuse_explicit_average_pads)]}
