"""Caffe facet of ``Power``: ``Power`` with ``power_param { power scale shift }`` (each written when not the
default)."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Power

TYPES = ("Power",)


def write(layer: Power, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "Power", [layer.input], [layer.output])
    for name, default in (("power", 1.0), ("scale", 1.0), ("shift", 0.0)):
        if getattr(layer, name) != default:
            setattr(proto.power_param, name, getattr(layer, name))


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    source.expect_one_in_one_out()
    p = source.param.power_param
    return [
        Power(
            name=source.name,
            input=source.inputs[0],
            output=source.outputs[0],
            power=p.power,
            scale=p.scale,
            shift=p.shift,
        )
    ]


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Power] = CaffeFacet(write=write, types=TYPES, read=read)
