"""Caffe facet of ``Eltwise``: ``Eltwise`` with ``operation`` and, for SUM, ``coeff``."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader, pb
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Eltwise

TYPES = ("Eltwise",)
_OPS = {"prod": 0, "sum": 1, "max": 2}


def write(layer: Eltwise, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "Eltwise", list(layer.input_names), [layer.output])
    proto.eltwise_param.operation = _OPS[layer.operation]
    proto.eltwise_param.coeff.extend(layer.coeff)


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    lp = source.param
    if len(source.outputs) != 1:
        raise source.error(f"has {len(source.outputs)} tops; Eltwise writes one")
    p = lp.eltwise_param
    operation = {v: k for k, v in _OPS.items()}[p.operation]
    coeff = tuple(p.coeff)
    if coeff and operation != "sum":
        raise source.error(
            f"coeff {list(coeff)} with operation {pb.EltwiseParameter.EltwiseOp.Name(p.operation)}: Caffe takes "
            "coefficients for SUM only (it refuses this net); drop the coeff"
        )
    return [
        Eltwise(
            name=lp.name, input_names=tuple(source.inputs), output=source.outputs[0], operation=operation, coeff=coeff
        )
    ]


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Eltwise] = CaffeFacet(write=write, types=TYPES, read=read)
