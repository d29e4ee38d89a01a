"""Caffe facet of ``Exp``: ``Exp`` with ``exp_param { base scale shift }`` (each written when not the default)."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Exp

TYPES = ("Exp",)


def write(layer: Exp, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "Exp", [layer.input], [layer.output])
    for name, default in (("base", -1.0), ("scale", 1.0), ("shift", 0.0)):
        if getattr(layer, name) != default:
            setattr(proto.exp_param, name, getattr(layer, name))


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    source.expect_one_in_one_out()
    p = source.param.exp_param
    return [
        Exp(
            name=source.name,
            input=source.inputs[0],
            output=source.outputs[0],
            base=p.base,
            scale=p.scale,
            shift=p.shift,
        )
    ]


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Exp] = CaffeFacet(write=write, types=TYPES, read=read)
