"""IR -> IR passes: every multi-node form is defined here once, for every format.

- **Lowerings** run before an emitter (:func:`lower`): a layer the target cannot say in one node or layer becomes
  the exact sequence of simpler layers it can (an Upsample as Caffe's recipe Deconvolution, the edge-replicated
  recipe ``Pad(edge) -> Deconvolution -> Crop`` for half-pixel Resize, a Deconvolution whose output_padding
  onnxruntime refuses as ``Deconvolution -> Pad -> [Crop] -> [Bias]``).  Each format's facets then write the
  simpler layers.
- **Fusions** run after a reader (:func:`fuse`): the same sequences, found in what the reader built, become one
  layer again, whichever format they came from.

The recipes live in :mod:`.deconvolution`, :mod:`.upsample` and :mod:`.normalization`; this module only drives them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..codec.names import NameAllocator
from ..errors import ConvertkitError
from ..ir import Layer, Model, TensorType

__all__ = ["ExportOptions", "Graph", "lower", "fuse", "TARGETS"]

TARGETS: tuple[str, ...] = ("onnx", "caffe")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportOptions:
    """What a lowering may depend on: the target format and its export choices."""

    target: str
    dialect: str = "bvlc"
    #: The runtime an ONNX export is for (:data:`convertkit.portability.RUNTIME_TARGETS`): ``portable`` (the
    #: default) picks, among exact forms, the one every runtime runs; a named runtime may take a form only it runs.
    runtime: str = "portable"
    #: ``speed``: upsample-like layers in their fastest exact form (:mod:`.fast_upsample`); ``none``: literal.
    optimize: str = "none"


@dataclass
class Graph:
    """The working state of a pass: layers in order, value types, the declared outputs and a name allocator."""

    layers: list[Layer]
    types: dict[str, TensorType]
    outputs: tuple[str, ...]
    names: NameAllocator

    @classmethod
    def of(cls, layers: Sequence[Layer], types: dict[str, TensorType], outputs: Sequence[str]) -> Graph:
        names = NameAllocator()
        names.reserve(types)
        names.reserve(layer.name for layer in layers)
        return cls(list(layers), dict(types), tuple(outputs), names)

    def input_types(self, layer: Layer) -> list[TensorType]:
        return [self.types[v] for v in layer.inputs]

    def sole_consumer(self, value: str, after: int) -> int | None:
        """The index of the one layer (after ``after``) reading ``value``, if exactly one does and it is no output."""
        if value in self.outputs:
            return None
        readers = [i for i, layer in enumerate(self.layers) if value in layer.inputs]
        if len(readers) != 1 or readers[0] <= after or list(self.layers[readers[0]].inputs).count(value) != 1:
            return None
        return readers[0]

    def chain(self, head: int, length: int) -> list[int]:
        """Up to ``length`` layer indices from ``head`` on, each the sole consumer of the previous one's only output."""
        members = [head]
        while len(members) < length:
            outputs = self.layers[members[-1]].outputs
            if len(outputs) != 1:
                break
            nxt = self.sole_consumer(outputs[0], members[-1])
            if nxt is None:
                break
            members.append(nxt)
        return members

    def infer(self, layer: Layer) -> None:
        """Type ``layer``'s outputs (raises the layer's error when its rule does not hold)."""
        out = layer.infer(self.input_types(layer))
        self.types.update(zip(layer.outputs, out, strict=True))


#: A lowering rewrites one layer for a target into the layers that say it there, or leaves it (None).
Lowering = Callable[[Layer, list[TensorType], Graph, ExportOptions], list[Layer] | None]
#: A fusion looks at a chain of layers (the head and its sole consumers) and returns the one layer the first
#: ``n`` of them are, with ``n``, or None.
Fusion = Callable[[list[Layer], Graph], tuple[Layer, int] | None]
#: A check looks at a whole model (layers, value types, outputs) and raises where a format cannot say it exactly.
Check = Callable[[list[Layer], dict[str, TensorType], tuple[str, ...]], None]


def _lowerings(target: str) -> list[Lowering]:
    from . import as_2d, convolution, deconvolution, fast_upsample, normalization, pooling, subpixel, unpool, upsample

    return [
        *fast_upsample.LOWERINGS.get(target, ()),
        *unpool.LOWERINGS.get(target, ()),
        *upsample.LOWERINGS.get(target, ()),
        *normalization.LOWERINGS.get(target, ()),
        *as_2d.LOWERINGS.get(target, ()),  # before deconvolution's: the 2-D layer then takes the portable forms
        *deconvolution.LOWERINGS.get(target, ()),
        *convolution.LOWERINGS.get(target, ()),
        *pooling.LOWERINGS.get(target, ()),
        *subpixel.LOWERINGS.get(target, ()),
    ]


def _fusions(stage: str) -> list[tuple[int, Fusion]]:
    from . import (
        arithmetic,
        as_2d,
        convolution,
        deconvolution,
        fast_upsample,
        inner_product,
        normalization,
        pooling,
        subpixel,
        upsample,
    )

    return [
        *fast_upsample.FUSIONS.get(stage, ()),
        *upsample.FUSIONS.get(stage, ()),
        *normalization.FUSIONS.get(stage, ()),
        *deconvolution.FUSIONS.get(stage, ()),
        *convolution.FUSIONS.get(stage, ()),
        *arithmetic.FUSIONS.get(stage, ()),
        *inner_product.FUSIONS.get(stage, ()),
        *subpixel.FUSIONS.get(stage, ()),
        *pooling.FUSIONS.get(stage, ()),
        *as_2d.FUSIONS.get(stage, ()),
    ]


def _checks(stage: str) -> list[Check]:
    from . import unpool

    return [*unpool.CHECKS.get(stage, ())]


def lower(model: Model, options: ExportOptions) -> Model:
    """``model`` with every layer the target cannot say directly replaced by the layers that say it, exactly.

    Lowered layers are lowered again until none applies; then the target's clean-up fusions run (Caffe folds a
    crop of a deconvolution's rows into its pads).  Raises the layer's error where no exact form exists.
    """
    for check in _checks(f"{options.target}-export"):
        check(list(model.layers), dict(model.types), model.outputs)
    graph = Graph.of([], dict(model.types), model.outputs)
    graph.names.reserve(layer.name for layer in model.layers)
    rules = _lowerings(options.target)
    pending = list(model.layers)
    while pending:
        layer = pending.pop(0)
        for rule in rules:
            replaced = rule(layer, graph.input_types(layer), graph, options)
            if replaced is not None:
                for new in replaced:
                    graph.infer(new)
                pending[:0] = replaced
                break
        else:
            graph.layers.append(layer)
    _apply_fusions(graph, _fusions(f"{options.target}-export"))
    if graph.layers == list(model.layers):
        return model
    return Model(graph.layers, model.outputs, model.name)


def fuse(
    layers: Sequence[Layer], types: dict[str, TensorType], outputs: Sequence[str], stage: str = "import"
) -> list[Layer]:
    """The layers a reader built with convertkit's multi-node forms folded back into one layer each.

    ``stage`` ``import`` (the ONNX reader) runs every import fusion; ``caffe-import`` (the Caffe reader) only those
    registered for it (the stock one-hot DepthToSpace forms).
    """
    from .layout import fold_layout

    graph = Graph.of(layers, types, outputs)
    if stage == "import":
        fold_layout(graph)  # tf2onnx's NHWC Transpose pairs first: the fusions then see channels-first chains
    _apply_fusions(graph, _fusions(stage))
    for check in _checks(stage):
        check(graph.layers, graph.types, graph.outputs)
    return graph.layers


def _apply_fusions(graph: Graph, fusions: list[tuple[int, Fusion]]) -> None:
    """Offer every chain to every fusion (longest first) until nothing changes."""
    fusions = sorted(fusions, key=lambda lf: -lf[0])
    changed = True
    while changed:
        changed = False
        for i in range(len(graph.layers)):
            for length, fusion in fusions:
                members = graph.chain(i, length)
                try:
                    found = fusion([graph.layers[m] for m in members], graph)
                except ConvertkitError:
                    found = None  # the fused layer would break a rule: not the pattern
                if found is None:
                    continue
                fused, n = found
                last = graph.layers[members[n - 1]]
                try:
                    fused_types = fused.infer(graph.input_types(fused))
                except ConvertkitError:
                    continue
                if fused.outputs != last.outputs or any(
                    graph.types[v] != t for v, t in zip(fused.outputs, fused_types, strict=True)
                ):
                    continue  # a fusion must compute the same values under the same names
                keep = members[n - 1]
                graph.layers[keep] = fused
                for m in sorted(members[: n - 1], reverse=True):
                    del graph.layers[m]
                changed = True
                break
            if changed:
                break
