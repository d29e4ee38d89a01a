"""Caffe facet of ``Input``."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...errors import FormatError
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Input

TYPES = ("Input",)


def write(layer: Input, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    """``layer { type: "Input" input_param { shape { dim: ... } } }``."""
    proto = ctx.add_layer(layer.name, "Input", [], [layer.name])
    proto.input_param.shape.add().dim.extend(layer.shape)


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    """One :class:`Input` per top; ``input_param`` has one shape for all tops or one per top."""
    lp, outputs = source.param, source.outputs
    shapes = [tuple(int(d) for d in s.dim) for s in lp.input_param.shape]
    if len(shapes) not in (1, len(outputs)):
        raise FormatError(
            f"layer {lp.name!r} (Input): input_param has {len(shapes)} shape(s) for {len(outputs)} top(s); "
            "give one shape, or one per top"
        )
    return [Input(name=top, shape=shapes[i if len(shapes) > 1 else 0]) for i, top in enumerate(outputs)]


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Input] = CaffeFacet(write=write, types=TYPES, read=read)
