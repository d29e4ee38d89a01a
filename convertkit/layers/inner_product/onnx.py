"""ONNX facet of ``InnerProduct``.

Written: axis 1 as ``Flatten`` (axis 1; left out for a 2-D input) -> ``Gemm`` (``transB`` 1, or 0 for a
``transpose`` weight stored ``(K, N)``); the last axis of a 3-D or higher input without bias as one ``MatMul`` by the
``(K, N)`` weight; any other axis as ``Reshape`` to ``(M, K)`` -> ``Gemm`` -> ``Reshape`` to
``dims[:axis] + (N,)``.  Every form is the same float32 products and sums as Caffe's ``x W^T + b``.

Read: ``Gemm`` with a 2-D run-time ``A``, constant ``B`` and optional constant ``C`` (``(N,)``, ``(1, N)`` or one
value), ``alpha`` 1, ``beta`` 1 and ``transA`` 0 — anything else would scale the products and is refused;
``MatMul`` by a constant 2-D ``B`` ``(K, N)`` (an InnerProduct on the last axis without bias, ``transpose``).  The
Flatten / Reshape around them and a bias ``Add`` after a MatMul fold in through
:mod:`convertkit.passes.inner_product`.
"""

from __future__ import annotations

import math

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...errors import UnsupportedError, ValidationError
from ...fillers import Values
from ...ir import TensorType
from ...registry import OnnxFacet
from ..reshape.onnx import write_reshape
from .core import InnerProduct

OP_TYPES = ("Gemm", "MatMul")


def write(layer: InnerProduct, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    x = types[0]
    dtype = np.dtype(x.dtype)
    rank = len(x.shape)
    a, k = layer.canonical_axis(rank), layer.in_features(x.shape)
    m = math.prod(x.shape[:a])
    if a == rank - 1 and rank > 2 and layer.bias_array(dtype) is None:
        # the last axis of an N-D input, no bias: one MatMul (it broadcasts over the leading axes), which is what
        # reads back as this layer; no Reshape, so the GEMM writes the output in place
        w = layer.weight_array(k, dtype)
        stored = w if layer.transpose else np.ascontiguousarray(w.T)
        ctx.add_node(
            "MatMul",
            [layer.input, ctx.add_initializer(f"{layer.name}.weight", stored)],
            [layer.output],
            name=layer.name,
        )
        return
    inputs = [layer.input]
    if a == 1 and rank != 2:
        flat = ctx.fresh(f"{layer.name}.flat")
        ctx.add_node("Flatten", [layer.input], [flat], name=layer.name, axis=1)
        inputs = [flat]
    elif a != 1:
        flat = ctx.fresh(f"{layer.name}.flat")
        write_reshape(ctx, layer.name, layer.input, flat, (m, k))
        inputs = [flat]
    inputs.append(ctx.add_initializer(f"{layer.name}.weight", layer.weight_array(k, dtype)))
    bias = layer.bias_array(dtype)
    if bias is not None:
        inputs.append(ctx.add_initializer(f"{layer.name}.bias", bias))
    out = layer.output if a == 1 else ctx.fresh(f"{layer.name}.gemm")
    ctx.add_node("Gemm", inputs, [out], name=layer.name, transB=0 if layer.transpose else 1)
    if a != 1:
        write_reshape(ctx, f"{layer.name}.out", out, layer.output, x.shape[:a] + (layer.num_output,))


def _read_gemm(node: OnnxNode) -> InnerProduct:
    x = node.input_type(0)
    w = np.asarray(node.constant(1, "the weight B"))
    c = node.optional_constant(2, "the bias C")
    alpha, beta = float(node.attr("alpha", 1.0)), float(node.attr("beta", 1.0))
    trans_a, trans_b = int(node.attr("transA", 0)), int(node.attr("transB", 0))
    if len(x.shape) != 2 or w.ndim != 2:
        raise node.error(f"A {list(x.shape)} and B {list(w.shape)} must be 2-D (Gemm's rule)", ValidationError)
    if trans_a:
        raise node.error("transA 1 multiplies the transposed input; Caffe's InnerProduct has no such form")
    if alpha != 1.0 or (c is not None and beta != 1.0):
        raise node.error(
            f"alpha {alpha} / beta {beta}: Caffe's InnerProduct computes x W^T + b without factors, and folding "
            "them into the blobs would round differently; fold them in the exporter (alpha 1, beta 1)"
        )
    if w.dtype != np.dtype(x.dtype):
        raise node.error(f"B is {w.dtype}, A {x.dtype}; Gemm needs one type", ValidationError)
    n = w.shape[0] if trans_b else w.shape[1]
    k = w.shape[1] if trans_b else w.shape[0]
    if k != x.shape[1]:
        raise node.error(f"A {list(x.shape)} and B {list(w.shape)} (transB {trans_b}) do not multiply", ValidationError)
    bias = None
    if c is not None:
        if c.dtype != w.dtype:
            raise node.error(f"C is {c.dtype}, B {w.dtype}; Gemm needs one type", ValidationError)
        if c.size == 1 and c.ndim <= 2:
            bias = np.full((n,), c.reshape(()), dtype=c.dtype)
        elif c.shape in ((n,), (1, n)):
            bias = np.ascontiguousarray(c.reshape(n))
        else:
            raise node.error(
                f"C of shape {list(c.shape)}: convertkit's InnerProduct adds one bias per output ({n},) (or (1, {n}))",
                UnsupportedError,
            )
    return InnerProduct(
        name=node.name,
        input=node.value(0),
        output=node.output_names[0],
        num_output=n,
        transpose=not trans_b,
        bias_term=bias is not None,
        weight=Values(array=np.ascontiguousarray(w)),
        bias=None if bias is None else Values(array=bias),
    )


def read(node: OnnxNode) -> InnerProduct | None:
    if node.op_type == "Gemm":
        return _read_gemm(node)
    # MatMul: a run-time x (..., K) by a constant (K, N); anything else is no InnerProduct
    if not node.is_constant(1) or node.is_constant(0):
        return None
    x = node.input_type(0)
    w = np.asarray(node.constant(1, "the weight"))
    if w.ndim != 2 or w.dtype != np.dtype(x.dtype) or w.shape[0] != x.shape[-1]:
        return None
    return InnerProduct(
        name=node.name,
        input=node.value(0),
        output=node.output_names[0],
        num_output=w.shape[1],
        axis=len(x.shape) - 1,
        transpose=True,
        bias_term=False,
        weight=Values(array=np.ascontiguousarray(w)),
    )


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[InnerProduct] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
