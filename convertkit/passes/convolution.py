"""Convolution's multi-node forms, defined once.

**Asymmetric pads** (Caffe export): Caffe's Convolution pads symmetrically, so ``Convolution`` with pads
``(pb, pe)`` per axis is written as ``Pad`` (zeros, ``pb - p`` before and ``pe - p`` after, ``p = min(pb, pe)``)
-> ``Convolution`` with the symmetric ``p``.  Exact: zero padding is the first step of the convolution itself, and
the ``Pad`` kind has an exact stock Caffe form.

**A zero Pad before a Convolution** (import) is more pads: ``Pad`` (constant 0, spatial axes) -> ``Convolution``
is one Convolution whose pads are the sums — the form exporters (and the lowering above) write.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..ir import Layer, TensorType
from ..layers.convolution import Convolution
from ..layers.pad import Pad
from . import ExportOptions, Fusion, Graph, Lowering

__all__ = ["LOWERINGS", "FUSIONS", "symmetric_split"]


def symmetric_split(pads: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(excess, symmetric)``: the Pad's ``(begin..., end...)`` and the Convolution's symmetric pads."""
    n = len(pads) // 2
    common = tuple(min(pads[a], pads[n + a]) for a in range(n))
    excess = tuple(pads[a] - common[a] for a in range(n)) + tuple(pads[n + a] - common[a] for a in range(n))
    return excess, common + common


def lower_asymmetric_pads(
    layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions
) -> list[Layer] | None:
    """Caffe: ``Pad`` (zeros, the excess) -> ``Convolution`` (symmetric pads) where the pads are asymmetric."""
    if not isinstance(layer, Convolution) or layer.pads_begin == layer.pads_end:
        return None
    assert layer.pads is not None
    excess, symmetric = symmetric_split(layer.pads)
    pad = Pad(
        name=graph.names.fresh(f"{layer.name}.pad"),
        input=layer.input,
        output=graph.names.fresh(f"{layer.name}.padded"),
        pads=excess,
    )
    return [pad, dataclasses.replace(layer, input=pad.output, pads=symmetric)]


def fuse_zero_pad(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """``Pad`` (constant +0.0 on spatial axes) -> ``Convolution``: one Convolution with the pads added."""
    if len(chain) < 2 or not isinstance(chain[0], Pad) or not isinstance(chain[1], Convolution):
        return None
    pad, conv = chain[0], chain[1]
    if pad.mode != "constant" or pad.value != 0.0 or np.signbit(pad.value) or pad.spatial_rank != conv.spatial_rank:
        return None
    assert conv.pads is not None
    pads = tuple(p + q for p, q in zip(pad.pads, conv.pads, strict=True))
    return dataclasses.replace(conv, input=pad.input, pads=pads), 2


LOWERINGS: dict[str, list[Lowering]] = {"caffe": [lower_asymmetric_pads]}
FUSIONS: dict[str, list[tuple[int, Fusion]]] = {"import": [(2, fuse_zero_pad)]}
