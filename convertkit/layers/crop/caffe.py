"""Caffe facet of ``Crop``."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...errors import FormatError
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Crop

TYPES = ("Crop",)


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
        raise FormatError(f"layer {lp.name!r} (Crop): needs two bottoms (blob, reference) and one top")
    p = lp.crop_param
    if not lp.HasField("crop_param"):
        # BVLC's Crop (caffe/src/caffe/layers/crop_layer.cpp) defaults to axis 2, offset 0; the FCN-era fork's
        # Crop (HED, CRF-as-RNN) took no crop_param and derived each offset from the layers' coordinate maps.
        ctx.warn(
            f"layer {lp.name!r} (Crop): no crop_param, so BVLC Caffe's defaults apply (axis 2, offset 0); FCN-era "
            "Caffe forks (HED, CRF-as-RNN) computed the offsets from coordinate maps instead, and their nets read "
            "this way are misaligned by those offsets — give the offsets in crop_param if the net comes from one"
        )
    return [
        Crop(
            name=lp.name,
            input=inputs[0],
            shape_like=inputs[1],
            output=outputs[0],
            axis=p.axis,
            offset=tuple(p.offset),
        )
    ]


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Crop] = CaffeFacet(write=write, types=TYPES, read=read)
