"""InnerProduct's multi-node forms (import): the ONNX spellings of a Caffe InnerProduct fold back into one layer.

- ``Flatten`` (axis 1) -> ``InnerProduct`` (a Gemm): one InnerProduct, axis 1, on the Flatten's input (Caffe's
  InnerProduct flattens the axes from ``axis`` on itself).
- ``Reshape`` to ``(M, K)`` -> ``InnerProduct`` -> ``Reshape`` to ``dims[:a] + (N,)`` with ``M = prod(dims[:a])``:
  one InnerProduct with axis ``a`` (convertkit's export of an axis other than 1); ``Reshape`` to
  ``(dims[0], K)`` -> ``InnerProduct`` (``x.view(n, -1)`` in PyTorch): axis 1.
- ``InnerProduct`` without bias (a MatMul) on a 2-D input -> ``Bias`` (an Add of a ``(N,)`` constant): one
  InnerProduct with that bias.

Each is the same products and sums in the same order, so the values are the same bit for bit.
"""

from __future__ import annotations

import dataclasses
import math

from ..ir import Layer
from ..layers.bias import Bias
from ..layers.flatten import Flatten
from ..layers.inner_product import InnerProduct
from ..layers.reshape import Reshape
from . import Fusion, Graph

__all__ = ["FUSIONS"]


def _on_matrix(layer: Layer, graph: Graph) -> InnerProduct | None:
    """``layer`` if it is an InnerProduct on a 2-D input (axis 1), else None."""
    if isinstance(layer, InnerProduct) and len(graph.types[layer.input].shape) == 2 and layer.axis in (1, -1):
        return layer
    return None


def fuse_flatten(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    ip = _on_matrix(chain[1], graph) if len(chain) >= 2 else None
    if ip is None or not isinstance(chain[0], Flatten):
        return None
    flat = chain[0]
    rank = len(graph.types[flat.input].shape)
    if rank < 2 or flat.span(rank) != (1, rank - 1):
        return None
    return dataclasses.replace(ip, name=flat.name, input=flat.input, axis=1), 2


def fuse_reshapes(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    ip = _on_matrix(chain[1], graph) if len(chain) >= 2 else None
    if ip is None or not isinstance(chain[0], Reshape):
        return None
    first = chain[0]
    dims = graph.types[first.input].shape
    m, _ = graph.types[first.output].shape
    if len(chain) >= 3 and isinstance(chain[2], Reshape):
        target = graph.types[chain[2].output].shape
        for a in range(len(dims) + 1):
            if a < len(dims) and math.prod(dims[:a]) == m and target == dims[:a] + (ip.num_output,):
                fused = dataclasses.replace(ip, name=first.name, input=first.input, output=chain[2].output, axis=a)
                return fused, 3
    if len(dims) >= 2 and m == dims[0]:
        return dataclasses.replace(ip, name=first.name, input=first.input, axis=1), 2
    return None


def fuse_bias(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    ip = _on_matrix(chain[0], graph)
    if ip is None or len(chain) < 2 or not isinstance(chain[1], Bias):
        return None
    bias = chain[1]
    if ip.bias_term:
        return None
    return dataclasses.replace(ip, output=bias.output, bias_term=True, bias=bias.bias), 2


FUSIONS: dict[str, list[tuple[int, Fusion]]] = {
    "import": [(3, fuse_reshapes), (2, fuse_flatten), (2, fuse_bias)],
}
