"""ONNX facet of ``Reshape``: ``Reshape`` with the resolved output shape as an int64 constant; read back from an
ONNX ``Reshape`` with a constant shape (ONNX's 0 copy / -1 infer resolved, ``allowzero`` zeros refused), and from
``Squeeze`` / ``Unsqueeze`` with constant axes (every shape is static, so each is a Reshape to its result; written
back as ``Reshape``)."""

from __future__ import annotations

import math

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...errors import ValidationError
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Reshape

OP_TYPES = ("Reshape", "Squeeze", "Unsqueeze")


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


def _axes(node: OnnxNode) -> list[int] | None:
    """The constant ``axes`` of a Squeeze / Unsqueeze (an attribute before opset 13, an input since)."""
    if node.opset < 13:
        given = node.attr("axes")
        return None if given is None else [int(a) for a in given]
    if not node.has_input(1):
        return None
    return [int(a) for a in np.asarray(node.constant(1, "the axes")).astype(np.int64).ravel()]


def squeeze_target(node: OnnxNode) -> tuple[int, ...]:
    """The output shape of a ``Squeeze`` / ``Unsqueeze`` on its static input."""
    dims = list(node.input_type(0).shape)
    axes = _axes(node)
    if node.op_type == "Squeeze":
        rank = len(dims)
        chosen = [i for i, d in enumerate(dims) if d == 1] if axes is None else axes
        if any(not -rank <= a < rank for a in chosen):
            raise node.error(f"axes {chosen} out of range for input {dims}", ValidationError)
        drop = {a % rank for a in chosen}
        if any(dims[a] != 1 for a in drop):
            raise node.error(f"axes {sorted(drop)} of input {dims} are not all of size 1", ValidationError)
        return tuple(d for i, d in enumerate(dims) if i not in drop)
    if axes is None:
        raise node.error("Unsqueeze needs axes", ValidationError)
    rank = len(dims) + len(axes)
    if any(not -rank <= a < rank for a in axes) or len({a % rank for a in axes}) != len(axes):
        raise node.error(f"axes {axes} are out of range or repeated for output rank {rank}", ValidationError)
    ones = {a % rank for a in axes}
    it = iter(dims)
    return tuple(1 if i in ones else next(it) for i in range(rank))


def read(node: OnnxNode) -> Reshape:
    target = onnx_target(node) if node.op_type == "Reshape" else squeeze_target(node)
    if not target:
        raise node.error("the result is a rank-0 tensor; convertkit values have at least one axis")
    return Reshape(name=node.name, input=node.value(0), output=node.output_names[0], shape=target)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Reshape] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
