"""ONNX facet of ``Reshape``: ``Reshape`` with the resolved output shape as an int64 constant; read back from an
ONNX ``Reshape`` with a constant shape (ONNX's 0 copy / -1 infer resolved, ``allowzero`` zeros refused)."""

from __future__ import annotations

import math

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...errors import ValidationError
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Reshape

OP_TYPES = ("Reshape",)


def write_reshape(ctx: OnnxEmitter, name: str, x: str, out: str, dims: tuple[int, ...]) -> None:
    """One ONNX ``Reshape`` of ``x`` to the concrete ``dims``."""
    shape = ctx.add_initializer(f"{name}.shape", np.array(dims, dtype=np.int64))
    ctx.add_node("Reshape", [x, shape], [out], name=name)


def write(layer: Reshape, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    write_reshape(ctx, layer.name, layer.input, layer.output, layer.resolve(types[0].shape))


def onnx_target(node: OnnxNode) -> tuple[int, ...]:
    """The output shape of an ONNX ``Reshape`` on its static input."""
    x = node.input_type(0)
    raw = [int(v) for v in np.asarray(node.constant(1, "the shape")).astype(np.int64).ravel()]
    allowzero = int(node.attr("allowzero", 0))
    if allowzero and 0 in raw:
        raise node.error(f"shape {raw} with allowzero 1 makes an empty tensor; convertkit values have no empty axes")
    out = []
    for i, d in enumerate(raw):
        if d == 0:
            if i >= len(x.shape):
                raise node.error(f"shape {raw} copies (0) axis {i}, which input {list(x.shape)} lacks", ValidationError)
            out.append(x.shape[i])
        else:
            out.append(d)
    if out.count(-1) > 1 or any(d < -1 for d in out):
        raise node.error(f"shape {raw}: at most one -1 and no other negative dimension", ValidationError)
    total, known = math.prod(x.shape), math.prod(d for d in out if d != -1)
    if -1 in out:
        if known == 0 or total % known:
            raise node.error(f"shape {raw} cannot hold the {total} elements of {list(x.shape)}", ValidationError)
        out[out.index(-1)] = total // known
    elif known != total:
        raise node.error(f"shape {raw} has {known} elements, input {list(x.shape)} {total}", ValidationError)
    return tuple(out)


def read(node: OnnxNode) -> Reshape:
    return Reshape(name=node.name, input=node.value(0), output=node.output_names[0], shape=onnx_target(node))


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Reshape] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
