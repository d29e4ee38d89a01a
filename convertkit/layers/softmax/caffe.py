"""Caffe facet of ``Softmax``: ``Softmax`` with ``softmax_param { axis }`` (written when not Caffe's default 1)."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Softmax

TYPES = ("Softmax",)


def write(layer: Softmax, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "Softmax", [layer.input], [layer.output])
    if layer.axis != 1:
        proto.softmax_param.axis = layer.axis


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    source.expect_one_in_one_out()
    lp = source.param
    return [Softmax(name=lp.name, input=source.inputs[0], output=source.outputs[0], axis=lp.softmax_param.axis)]


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Softmax] = CaffeFacet(write=write, types=TYPES, read=read)
