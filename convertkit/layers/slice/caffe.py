"""Caffe facet of ``Slice``."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...errors import FormatError
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Slice

TYPES = ("Slice",)


def write(layer: Slice, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    if len(layer.output_names) == 1:
        # A one-top Slice is a copy; OpenCV crashes on it, so it is written as Caffe's copy, Split.
        ctx.add_layer(layer.name, "Split", [layer.input], list(layer.output_names))
        return
    proto = ctx.add_layer(layer.name, "Slice", [layer.input], list(layer.output_names))
    proto.slice_param.axis = layer.axis
    proto.slice_param.slice_point.extend(layer.slice_points)


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    lp, inputs, outputs = source.param, source.inputs, source.outputs
    if len(inputs) != 1:
        raise FormatError(f"layer {lp.name!r} (Slice): needs one bottom, got {len(inputs)}")
    p = lp.slice_param
    axis = p.axis if p.HasField("axis") or not p.HasField("slice_dim") else p.slice_dim
    return [
        Slice(name=lp.name, input=inputs[0], output_names=tuple(outputs), axis=axis, slice_points=tuple(p.slice_point))
    ]


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Slice] = CaffeFacet(write=write, types=TYPES, read=read)
