"""Coordinate maps: where a layer's output sits on its input's grid, per spatial axis, and the Crop offsets they give.

A map is ``out = scale * in + shift`` on each spatial axis (axes 2, 3, ... of an ``(N, C, spatial...)`` value),
as FCN's ``coord_map.py`` defines it (BVLC caffe ``python/caffe/coord_map.py``): a convolution or pooling with
kernel ``k`` (dilated: ``(k - 1) * dilation + 1``), stride ``s`` and begin pad ``p`` maps by ``1 / s`` and
``(p - (k - 1) / 2) / s``; a deconvolution by the inverse, ``s`` and ``(k - 1) / 2 - p``; a Crop at ``offset`` by
``1`` and ``-offset``; an elementwise layer by the identity.  Each kind says its map
(:meth:`convertkit.ir.Layer.coord_map`); None means the kind has none (the map is undefined through it).

:func:`crop_offsets` computes the offsets of the FCN-era Caffe forks' Crop without ``crop_param`` (HED's and
CRF-as-RNN's ``Crop``, RCF's ``AutoCrop``) the way their ``CropLayer::LayerSetUp`` does (longjon/caffe and
s9xie/hed ``src/caffe/layers/crop_layer.cpp``): walk back from the first bottom along each layer's first input,
then from the second bottom until a value on that path, compose each side's maps from that common ancestor, and
map the first bottom's coordinates onto the second's.  The result must have scale 1 and a non-positive integer
shift on every axis; the offset is minus the shift.  Values are exact fractions (the fork compares doubles).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import UnsupportedError

__all__ = ["CoordMap", "IDENTITY", "filter_map", "CoordMapError", "crop_offsets"]


class CoordMapError(UnsupportedError):
    """The coordinate maps give no crop offset (no common ancestor, a layer without a map, a scale or shift that
    is no crop)."""


@dataclass(frozen=True)
class CoordMap:
    """``out = scale * in + shift`` per spatial axis; ``axes`` None is the identity on any number of axes."""

    axes: tuple[tuple[Fraction, Fraction], ...] | None = None

    def compose(self, inner: CoordMap) -> CoordMap:
        """``self`` after ``inner`` (``self(inner(x))``)."""
        if self.axes is None:
            return inner
        if inner.axes is None:
            return self
        if len(self.axes) != len(inner.axes):
            raise CoordMapError(
                f"coordinate maps of {len(inner.axes)} and {len(self.axes)} spatial axes do not compose"
            )
        return CoordMap(
            tuple((a1 * a2, a1 * b2 + b1) for (a1, b1), (a2, b2) in zip(self.axes, inner.axes, strict=True))
        )

    def inverse(self) -> CoordMap:
        if self.axes is None:
            return self
        return CoordMap(tuple((1 / a, -b / a) for a, b in self.axes))

    def __str__(self) -> str:
        if self.axes is None:
            return "identity"
        return ", ".join(f"{_num(a)} * x {'-' if b < 0 else '+'} {_num(abs(b))}" for a, b in self.axes)


IDENTITY = CoordMap()


def _num(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{float(f):g}"


def filter_map(
    kernel: Sequence[int], strides: Sequence[int], pads_begin: Sequence[int], dilations: Sequence[int]
) -> CoordMap:
    """The map of a filter (convolution, pooling) from its input to its output (coord_map.py's rule)."""
    axes = []
    for k, s, p, d in zip(kernel, strides, pads_begin, dilations, strict=True):
        extent = (k - 1) * d + 1
        axes.append((Fraction(1, s), (Fraction(p) - Fraction(extent - 1, 2)) / s))
    return CoordMap(tuple(axes))


def crop_offsets(
    crop: str,
    x: str,
    ref: str,
    producer: Callable[[str], Any],
    types: Mapping[str, Any],
) -> tuple[int, ...]:
    """The offsets (one per spatial axis) at which the fork's Crop ``crop`` cuts ``x`` to ``ref``'s size.

    ``producer(value)`` is the :class:`~convertkit.ir.Layer` that writes ``value`` (None: a graph input); ``types``
    the values' :class:`~convertkit.ir.TensorType` (this module sits below :mod:`convertkit.ir`, which uses it).
    Raises :class:`CoordMapError` naming the layers when the maps give no crop.
    """
    path = [x]
    on_path = {x}
    value = x
    while (layer := producer(value)) is not None and layer.inputs:
        value = layer.inputs[0]
        path.append(value)
        on_path.add(value)
    common = ref
    walked = [ref]
    while common not in on_path:
        layer = producer(common)
        if layer is None or not layer.inputs:
            raise CoordMapError(
                f"Crop {crop!r}: its bottoms {x!r} and {ref!r} have no common ancestor along first inputs "
                f"({' <- '.join(path)} and {' <- '.join(walked)}), so coordinate maps give no offset; give the offsets "
                "in crop_param"
            )
        common = layer.inputs[0]
        walked.append(common)
    maps = []
    for start in (x, ref):
        m = IDENTITY
        value = start
        while value != common:
            layer = producer(value)
            assert layer is not None  # on a path that reaches `common`
            layer_map = layer.coord_map([types[v] for v in layer.inputs])
            if layer_map is None:
                raise CoordMapError(
                    f"Crop {crop!r}: layer {layer.name!r} ({layer.kind}) between {common!r} and {start!r} has no "
                    "coordinate map (only convolutions, poolings, deconvolutions, crops and elementwise layers have "
                    "one), so its offset is undefined; give the offsets in crop_param"
                )
            m = m.compose(layer_map)
            value = layer.inputs[0]
        maps.append(m)
    # x's coordinates onto ref's: ref = (to ref) after (from x back to the common value)
    crop_map = maps[1].compose(maps[0].inverse())
    rank = len(types[x].shape) - 2
    axes = crop_map.axes if crop_map.axes is not None else ((Fraction(1), Fraction(0)),) * rank
    if len(axes) != rank:
        raise CoordMapError(f"Crop {crop!r}: the coordinate map has {len(axes)} spatial axes, {x!r} has {rank}")
    where = f"Crop {crop!r}: the coordinate map from {x!r} to {ref!r} (through {common!r}) is {crop_map}"
    if any(a != 1 for a, _ in axes):
        raise CoordMapError(f"{where}: its scale is not 1, so the two are not on one grid and no crop aligns them")
    if any(b > 0 or b.denominator != 1 for _, b in axes):
        raise CoordMapError(
            f"{where}: a crop needs a non-positive integer shift on every axis; give the offsets in crop_param"
        )
    return tuple(int(-b) for _, b in axes)
