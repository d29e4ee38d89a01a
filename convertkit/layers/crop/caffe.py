"""Caffe facet of ``Crop``."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...coord_map import CoordMapError, crop_offsets
from ...errors import FormatError
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Crop

#: ``AutoCrop``: RCF's fork (yun-liu/rcf) — the FCN-era fork's coordinate-map Crop under its own name.
TYPES = ("Crop", "AutoCrop")


def write(layer: Crop, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    if layer.shape is not None:
        _write_slices(layer, ctx, types)
        return
    proto = ctx.add_layer(layer.name, "Crop", [layer.input, layer.shape_like], [layer.output])
    if layer.axis != 2:
        proto.crop_param.axis = layer.axis
    proto.crop_param.offset.extend(layer.offset)


def _write_slices(layer: Crop, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    """The explicit form: Caffe's Crop needs a reference blob, so each cut axis is one ``Slice`` whose kept
    piece goes on and whose other pieces go into ``Silence`` (exact: a copy of the rows)."""
    x = types[0]
    axis, offsets = layer.starts(x.shape)
    cuts = [
        (axis + a, o, s)
        for a, (o, s) in enumerate(zip(offsets, layer.sizes(types), strict=True))
        if (o, s) != (0, x.shape[axis + a])
    ]
    if not cuts:
        # crops nothing (offset 0 and the full size on every axis): a copy, which Caffe says as a one-input Concat
        ctx.add_layer(layer.name, "Concat", [layer.input], [layer.output])
        return
    cur = layer.input
    for k, (a, o, s) in enumerate(cuts):
        points = [p for p in (o, o + s) if 0 < p < x.shape[a]]
        kept = layer.output if k == len(cuts) - 1 else ctx.fresh(f"{layer.name}.axis{a}")
        tops, unused = [], []
        for lo in [0, *points]:
            if lo == o:
                tops.append(kept)
            else:
                unused.append(ctx.fresh(f"{layer.name}.axis{a}_unused"))
                tops.append(unused[-1])
        proto = ctx.add_layer(ctx.fresh(f"{layer.name}.axis{a}_slice"), "Slice", [cur], tops)
        proto.slice_param.axis = a
        proto.slice_param.slice_point.extend(points)
        if unused:
            ctx.add_layer(ctx.fresh(f"{layer.name}.axis{a}_silence"), "Silence", unused, [])
        cur = kept


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    lp, inputs, outputs = source.param, source.inputs, source.outputs
    if len(inputs) != 2 or len(outputs) != 1:
        raise FormatError(f"layer {lp.name!r} ({lp.type}): needs two bottoms (blob, reference) and one top")
    p = lp.crop_param
    axis, offset = p.axis, tuple(p.offset)
    if lp.type == "AutoCrop" or not lp.HasField("crop_param"):
        axis, offset = _fork_offsets(source, ctx)
    return [Crop(name=lp.name, input=inputs[0], shape_like=inputs[1], output=outputs[0], axis=axis, offset=offset)]


def _fork_offsets(source: CaffeLayer, ctx: CaffeReader) -> tuple[int, tuple[int, ...]]:
    """``(axis, offset)`` of a Crop without crop_param (or RCF's ``AutoCrop``), by the dialect's rule.

    BVLC's Crop (caffe/src/caffe/layers/crop_layer.cpp) defaults to axis 2, offset 0.  The FCN-era fork's Crop
    (longjon/caffe, s9xie/hed, torrvision/caffe: ``src/caffe/layers/crop_layer.cpp``) has no crop_param: it crops
    the spatial axes at the offsets the layers' coordinate maps give (:func:`convertkit.coord_map.crop_offsets`);
    RCF's ``AutoCrop`` is that layer renamed.  Undetected (no dialect), the coordinate maps decide: where they give
    a non-zero offset the file comes from a fork (a BVLC net crops at such offsets only with crop_param, as FCN's
    own nets do), so it is read that way with a warning; where they give zero both readings agree; where they give
    none the BVLC defaults apply, with a warning.
    """
    lp = source.param
    where = f"layer {lp.name!r} ({lp.type})"
    fork = lp.type == "AutoCrop" or ctx.dialect == "fcn"
    if ctx.dialect in ("bvlc", "pspnet", "segnet") and not fork:
        return 2, ()
    try:
        offsets = crop_offsets(lp.name, source.inputs[0], source.inputs[1], ctx.producers.get, ctx.value_types)
    except CoordMapError as exc:
        if fork:
            raise
        ctx.warn(
            f"{where}: no crop_param, so BVLC Caffe's defaults apply (axis 2, offset 0); FCN-era Caffe forks (HED, "
            f"CRF-as-RNN) computed the offsets from coordinate maps instead, and those give none here ({exc}); give "
            "the offsets in crop_param if the net comes from one"
        )
        return 2, ()
    if not fork and any(offsets):
        ctx.warn(
            f"{where}: no crop_param; read as the FCN-era Caffe fork's Crop (HED, CRF-as-RNN), whose offsets come "
            f"from the layers' coordinate maps: {list(offsets)} on the spatial axes — BVLC Caffe would crop at 0 "
            "instead; --caffe-dialect bvlc reads it as BVLC does, --caffe-dialect fcn reads it this way without "
            "this warning"
        )
    return 2, offsets if any(offsets) else ()


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Crop] = CaffeFacet(write=write, types=TYPES, read=read)
