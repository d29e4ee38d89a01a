"""ONNX facet of ``Input``."""

from __future__ import annotations

from ...codec.onnx import OnnxEmitter
from ...ir import TensorType
from .core import Input


def write(layer: Input, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    ctx.add_graph_input(layer.name, TensorType(layer.shape, layer.dtype))


def graph_input(name: str, t: TensorType) -> Input:
    """The layer that stands for the ONNX graph input ``name`` of type ``t``."""
    return Input(name=name, shape=t.shape, dtype=t.dtype)
