"""Caffe facet of ``Flatten``: ``Flatten`` with ``flatten_param { axis end_axis }`` as written."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Flatten

TYPES = ("Flatten",)


def write(layer: Flatten, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "Flatten", [layer.input], [layer.output])
    if layer.axis != 1:
        proto.flatten_param.axis = layer.axis
    if layer.end_axis != -1:
        proto.flatten_param.end_axis = layer.end_axis


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    source.expect_one_in_one_out()
    p = source.param.flatten_param
    return [
        Flatten(name=source.name, input=source.inputs[0], output=source.outputs[0], axis=p.axis, end_axis=p.end_axis)
    ]


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """OpenCV returns a 1-D result as ``(n, 1)`` (measured, OpenCV 4.14: Flatten of every axis)."""
    p = source.param.flatten_param
    if rank is None or not (-rank <= p.axis < rank and -rank <= p.end_axis < rank):
        return None
    if rank - (p.end_axis % rank - p.axis % rank) == 1:
        return "a Flatten to one axis: OpenCV returns 1-D results as (n, 1); use --backend reference or onnxruntime"
    return None


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Flatten] = CaffeFacet(write=write, types=TYPES, read=read, opencv_refusal=opencv_refusal)
