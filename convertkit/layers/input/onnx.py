"""ONNX facet of ``Input``."""

from __future__ import annotations

from ...codec.onnx import OnnxEmitter
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Input


def write(layer: Input, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    ctx.add_graph_input(layer.name, TensorType(layer.shape, layer.dtype))


def graph_input(name: str, t: TensorType) -> Input:
    """The layer that stands for the ONNX graph input ``name`` of type ``t``."""
    return Input(name=name, shape=t.shape, dtype=t.dtype)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Input] = OnnxFacet(write=write, graph_input=graph_input)
