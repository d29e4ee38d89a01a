"""Caffe facet of ``Concat``."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...errors import FormatError
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Concat

TYPES = ("Concat",)


def write(layer: Concat, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    if len(layer.input_names) == 1:
        # A one-bottom Concat is a copy; OpenCV runs it as garbage, so it is written as Caffe's copy, Split
        # (read back as this layer when its top is a net output, else as the blob itself).
        ctx.add_layer(layer.name, "Split", list(layer.input_names), [layer.output])
        return
    proto = ctx.add_layer(layer.name, "Concat", list(layer.input_names), [layer.output])
    proto.concat_param.axis = layer.axis


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    lp, inputs, outputs = source.param, source.inputs, source.outputs
    if len(outputs) != 1 or not inputs:
        raise FormatError(f"layer {lp.name!r} (Concat): needs bottoms and exactly one top")
    p = lp.concat_param
    axis = p.axis if p.HasField("axis") or not p.HasField("concat_dim") else p.concat_dim
    return [Concat(name=lp.name, input_names=tuple(inputs), output=outputs[0], axis=axis)]


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Concat] = CaffeFacet(write=write, types=TYPES, read=read)
