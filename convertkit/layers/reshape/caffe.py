"""Caffe facet of ``Reshape``: ``Reshape`` with ``reshape_param { shape { dim } axis num_axes }`` as written."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Reshape

TYPES = ("Reshape",)


def write(layer: Reshape, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, "Reshape", [layer.input], [layer.output])
    p = proto.reshape_param
    p.shape.dim.extend(layer.shape)
    if layer.axis != 0:
        p.axis = layer.axis
    if layer.num_axes != -1:
        p.num_axes = layer.num_axes


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    source.expect_one_in_one_out()
    p = source.param.reshape_param
    return [
        Reshape(
            name=source.name,
            input=source.inputs[0],
            output=source.outputs[0],
            shape=tuple(int(d) for d in p.shape.dim),
            axis=p.axis,
            num_axes=p.num_axes,
        )
    ]


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """Measured, OpenCV 4.14: its Caffe Reshape fails on a negative ``axis`` and on ``axis`` = rank (appending
    axes; ``normalize_axis_range`` rejects the range), and returns a 1-D result as ``(n, 1)``."""
    p = source.param.reshape_param
    if p.axis < 0 or (rank is not None and p.axis >= rank):
        return (
            f"a Reshape with axis {p.axis} on a rank-{rank} input: valid Caffe, but OpenCV's Caffe reader fails on a "
            "negative axis or one past the last axis; use --backend reference or onnxruntime"
        )
    if rank is not None:
        end = rank if p.num_axes == -1 else p.axis + p.num_axes
        if p.axis + len(p.shape.dim) + (rank - end) == 1:
            return "a Reshape to one axis: OpenCV returns 1-D results as (n, 1); use --backend reference or onnxruntime"
    return None


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Reshape] = CaffeFacet(write=write, types=TYPES, read=read, opencv_refusal=opencv_refusal)
