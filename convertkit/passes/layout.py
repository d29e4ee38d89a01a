"""Layout clean-up after import: TensorFlow exporters' data-movement chains read as what they are.

tf2onnx writes a channels-last model's graph with Transposes around the channels-first ops, and Keras's nearest
``UpSampling2D`` (``tf.repeat``) as ``Unsqueeze -> Tile -> [Transpose] -> Reshape`` per axis.  Two rewrites,
both exact by construction:

- **Repeat chains**: a run of pure data-movement layers (Reshape, Tile, Transpose; each the sole reader of the
  previous one's output) that contains a Tile is evaluated on an *index tensor* (``arange`` of the input's size,
  through the layers' own references), and compared with the index tensor of ``[Transpose] -> Upsample(nearest,
  asymmetric, floor, integer factors) -> [Transpose]`` (channels-last <-> channels-first only).  Equal index
  tensors mean the same gather, so the replacement computes the same values, bit for bit.
- **Transpose pairs**: a Transpose whose sole reader is the inverse Transpose goes away with it (the second's
  readers read the first's input); two equal Transposes of one value become one.

What remains is a Transpose at the model boundary (a channels-last interface), which ONNX writes as it is.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np

from ..ir import Layer, Model, TensorType
from ..layers.input import Input
from ..layers.reshape import Reshape
from ..layers.tile import Tile
from ..layers.transpose import Transpose
from ..layers.transpose.core import NCHW_TO_NHWC, NHWC_TO_NCHW, inverse
from ..layers.upsample import Upsample
from . import Graph

__all__ = ["fold_layout", "channels_first_interface"]

_MOVES = (Reshape, Tile, Transpose)
#: Index tensors above this many elements are not evaluated (the chain is left as it is).
_MAX_ELEMENTS = 1 << 24


def fold_layout(graph: Graph) -> None:
    """Apply both rewrites until nothing changes."""
    changed = True
    while changed:
        changed = _fold_repeat_chain(graph) or _fold_transpose_pair(graph) or _merge_equal_transposes(graph)


def _chain_from(graph: Graph, head: int) -> list[int]:
    members = [head]
    while True:
        nxt = graph.sole_consumer(graph.layers[members[-1]].outputs[0], members[-1])
        if nxt is None or not isinstance(graph.layers[nxt], _MOVES):
            return members
        members.append(nxt)


def _run(layers: list[Layer], x: np.ndarray, graph: Graph) -> np.ndarray:
    for layer in layers:
        (x,) = layer.reference([x], graph.input_types(layer))
    return x


def _candidates(x_shape: tuple[int, ...], y_shape: tuple[int, ...]):
    rank = len(x_shape)
    if rank < 3 or len(y_shape) != rank:
        return
    ident = tuple(range(rank))
    for p in (ident, NHWC_TO_NCHW(rank)):
        xp = tuple(x_shape[a] for a in p)
        for q in (ident, NCHW_TO_NHWC(rank)):
            up = tuple(y_shape[a] for a in inverse(q))  # the upsampled tensor, before q
            if up[:2] != xp[:2] or any(u % d for u, d in zip(up[2:], xp[2:], strict=True)):
                continue
            factors = tuple(u // d for u, d in zip(up[2:], xp[2:], strict=True))
            if all(f == 1 for f in factors):
                continue
            yield p, q, factors


def _fold_repeat_chain(graph: Graph) -> bool:
    for head, layer in enumerate(graph.layers):
        if not isinstance(layer, _MOVES):
            continue
        members = _chain_from(graph, head)
        tiles = [i for i, m in enumerate(members) if isinstance(graph.layers[m], Tile)]
        if not tiles:
            continue
        x_type = graph.types[layer.inputs[0]]
        if max(math.prod(graph.types[graph.layers[m].outputs[0]].shape) for m in members) > _MAX_ELEMENTS:
            continue
        for end in range(len(members), tiles[-1], -1):  # longest first
            chain = [graph.layers[m] for m in members[:end]]
            y_type = graph.types[chain[-1].outputs[0]]
            index = np.arange(math.prod(x_type.shape), dtype=np.float64).reshape(x_type.shape)
            got = _run(chain, index, graph)
            for p, q, factors in _candidates(x_type.shape, y_type.shape):
                want = np.transpose(index, p)
                for a, f in enumerate(factors):
                    want = np.repeat(want, f, axis=2 + a)
                want = np.transpose(want, q)
                if got.shape == want.shape and np.array_equal(got, want):
                    _replace(graph, members[:end], p, q, factors, x_type)
                    return True
    return False


def _replace(
    graph: Graph, members: list[int], p: tuple[int, ...], q: tuple[int, ...], factors: tuple[int, ...], x: TensorType
) -> None:
    first, last = graph.layers[members[0]], graph.layers[members[-1]]
    ident = tuple(range(len(p)))
    new: list[Layer] = []
    value = first.inputs[0]
    if p != ident:
        out = graph.names.fresh(f"{last.name}.nchw")
        new.append(Transpose(name=out, input=value, output=out, perm=p))
        value = out
    up_out = last.outputs[0] if q == ident else graph.names.fresh(f"{last.name}.upsampled")
    new.append(
        Upsample(
            name=last.name,
            input=value,
            output=up_out,
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
            scales=tuple(float(f) for f in factors),
        )
    )
    if q != ident:
        new.append(Transpose(name=graph.names.fresh(f"{last.name}.nhwc"), input=up_out, output=last.outputs[0], perm=q))
    keep = members[-1]
    for layer in new:
        graph.infer(layer)
    graph.layers[keep : keep + 1] = new
    for m in sorted(members[:-1], reverse=True):
        del graph.layers[m]


def _rename_reads(graph: Graph, old: str, new: str) -> None:
    import dataclasses

    for i, layer in enumerate(graph.layers):
        if old not in layer.inputs:
            continue
        changes: dict[str, Any] = {}
        for f in ("input", "shape_like"):
            if getattr(layer, f, None) == old:
                changes[f] = new
        names = getattr(layer, "input_names", None)
        if names is not None:
            changes["input_names"] = tuple(new if v == old else v for v in names)
        graph.layers[i] = dataclasses.replace(cast(Any, layer), **changes)


def _fold_transpose_pair(graph: Graph) -> bool:
    for i, first in enumerate(graph.layers):
        if not isinstance(first, Transpose):
            continue
        j = graph.sole_consumer(first.output, i)
        if j is None:
            continue
        second = graph.layers[j]
        if not isinstance(second, Transpose) or second.perm != inverse(first.perm):
            continue
        if second.output in graph.outputs:
            continue  # the model's output keeps its name and producer
        del graph.layers[j]
        del graph.layers[i]
        _rename_reads(graph, second.output, first.input)
        return True
    return False


def _merge_equal_transposes(graph: Graph) -> bool:
    seen: dict[tuple[str, tuple[int, ...]], int] = {}
    for i, layer in enumerate(graph.layers):
        if not isinstance(layer, Transpose):
            continue
        key = (layer.input, layer.perm)
        if key in seen and layer.output not in graph.outputs:
            kept = graph.layers[seen[key]]
            del graph.layers[i]
            _rename_reads(graph, layer.output, kept.output)  # type: ignore[attr-defined]
            return True
        seen.setdefault(key, i)
    return False


def _is_transpose(layer: Layer, perm: tuple[int, ...]) -> bool:
    return isinstance(layer, Transpose) and layer.perm == perm


def channels_first_interface(model: Model) -> Model:
    """``model`` with its channels-last boundary turned around: an input read only through a channels-last ->
    channels-first Transpose becomes a channels-first input of the same name, and an output written by the inverse
    Transpose becomes that Transpose's input under the output's name.  Exact (it only changes what is fed and
    returned); a model without such a boundary comes back unchanged."""
    import dataclasses

    graph = Graph.of(list(model.layers), dict(model.types), model.outputs)
    for name in model.inputs:
        i = next(k for k, other in enumerate(graph.layers) if other.graph_input and name in other.outputs)
        layer = graph.layers[i]
        readers = [j for j, other in enumerate(graph.layers) if name in other.inputs]
        rank = len(graph.types[name].shape)
        if not isinstance(layer, Input) or rank < 3 or not readers:
            continue
        if not all(_is_transpose(graph.layers[j], NHWC_TO_NCHW(rank)) for j in readers):
            continue
        graph.layers[i] = dataclasses.replace(layer, shape=tuple(layer.shape[a] for a in NHWC_TO_NCHW(rank)))
        for j in sorted(readers, reverse=True):
            t = graph.layers[j]
            del graph.layers[j]
            _rename_reads(graph, t.outputs[0], name)
    for out in model.outputs:
        found = next((k for k, other in enumerate(graph.layers) if out in other.outputs), None)
        if found is None:
            continue
        j = found
        t = graph.layers[j]
        rank = len(model.types[out].shape)
        if not isinstance(t, Transpose) or rank < 3 or t.perm != NCHW_TO_NHWC(rank):
            continue
        k = next((k for k, other in enumerate(graph.layers) if t.input in other.outputs), None)
        if k is None or t.input in graph.outputs:
            continue
        producer = graph.layers[k]
        if producer.graph_input or len(producer.outputs) != 1 or not hasattr(producer, "output"):
            continue
        del graph.layers[j]
        graph.layers[k] = dataclasses.replace(cast(Any, producer), output=out)
        _rename_reads(graph, t.input, out)
    if graph.layers == list(model.layers):
        return model
    return Model(graph.layers, model.outputs, model.name)
