"""ONNX facet of ``Tile``: ``Tile`` with constant ``repeats``; read only inside the exporters' repeat form."""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Tile

OP_TYPES = ("Tile",)


def write(layer: Tile, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    repeats = ctx.add_initializer(f"{layer.name}.repeats", np.array(layer.repeats, dtype=np.int64))
    ctx.add_node("Tile", [layer.input, repeats], [layer.output], name=layer.name)


def read(node: OnnxNode) -> Tile:
    repeats = tuple(int(r) for r in np.asarray(node.constant(1, "the repeats")).astype(np.int64).ravel())
    return Tile(name=node.name, input=node.value(0), output=node.output_names[0], repeats=repeats)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Tile] = OnnxFacet(write=write, op_types=OP_TYPES, read=read, read_alone=False)
