"""Caffe facet of ``Exp``: ``Exp`` with ``exp_param { base scale shift }`` (each written when not the default)."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .._scalar import read_base_scale_shift, write_base_scale_shift
from .core import Exp

TYPES = ("Exp",)


def write(layer: Exp, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "Exp", [layer.input], [layer.output])
    write_base_scale_shift(layer, proto.exp_param)


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    return read_base_scale_shift(Exp, source, source.param.exp_param)


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Exp] = CaffeFacet(write=write, types=TYPES, read=read)
