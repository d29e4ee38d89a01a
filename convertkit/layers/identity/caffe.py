"""Caffe facet of ``Identity``: ``Dropout`` (a copy at inference), its ``dropout_ratio`` kept in ``meta``."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...ir import Layer, Meta, TensorType
from ...registry import CaffeFacet
from .core import DROPOUT_RATIO, Identity

TYPES = ("Dropout",)


def write(layer: Identity, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "Dropout", [layer.input], [layer.output])
    ratio = layer.meta.get(DROPOUT_RATIO)
    if ratio is not None:
        proto.dropout_param.dropout_ratio = ratio


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    """A Dropout, in place (FCN's ``drop6`` on ``fc6``) or not: the reader gives an in-place top a fresh value."""
    source.expect_one_in_one_out()
    lp = source.param
    p = lp.dropout_param
    meta = Meta({DROPOUT_RATIO: p.dropout_ratio}) if p.HasField("dropout_ratio") else Meta()
    return [Identity(name=lp.name, input=source.inputs[0], output=source.outputs[0], meta=meta)]


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Identity] = CaffeFacet(write=write, types=TYPES, read=read)
