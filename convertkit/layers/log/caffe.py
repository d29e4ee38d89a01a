"""Caffe facet of ``Log``: ``Log`` with ``log_param { base scale shift }`` (each written when not the default)."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .._scalar import read_base_scale_shift, write_base_scale_shift
from .core import Log

TYPES = ("Log",)


def write(layer: Log, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "Log", [layer.input], [layer.output])
    write_base_scale_shift(layer, proto.log_param)


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    return read_base_scale_shift(Log, source, source.param.log_param)


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """OpenCV's Caffe ``Log`` is the natural log of the input and ignores ``log_param`` (measured, OpenCV 4.x:
    base 10 or scale 2 give ``log(x)``)."""
    p = source.param.log_param
    if (p.base, p.scale, p.shift) == (-1.0, 1.0, 0.0):
        return None
    return (
        "a Log with log_param base/scale/shift: valid Caffe, but OpenCV's Caffe reader ignores log_param and takes "
        "the natural log of the input; use --backend reference or onnxruntime"
    )


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Log] = CaffeFacet(write=write, types=TYPES, read=read, opencv_refusal=opencv_refusal)
