"""Caffe import: a prototxt (and optionally its .caffemodel) into a checked :class:`~convertkit.ir.Model`.

Graph plumbing only: phase rules, net inputs, blob names, weights by layer name.  Each Caffe layer type is read by
the kind whose Caffe facet declares it (:class:`convertkit.registry.CaffeFacet`); net inputs given outside
``layer { }`` and Split copies of net outputs are read as the ``Input`` / ``Concat`` layers that say the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ... import layers as _layers  # noqa: F401  (registers the layer kinds)
from ...codec.caffe import (
    FILL_MISSING,
    CaffeLayer,
    CaffeReader,
    UnknownField,
    filler_seed,
    pb,
    read_prototxt_with_lines,
)
from ...codec.names import NameAllocator
from ...errors import ConvertkitError, FormatError, UnsupportedError
from ...ir import Layer, Model, TensorType
from ...passes import fuse
from ...registry import caffe_readers

__all__ = ["CaffeReader", "load_caffe", "caffe_layer_kinds", "filler_seed", "FILL_MISSING"]
#: Layer types that only feed data (no computation in a deployed net); ``--input-shape`` turns their tops into
#: graph inputs.
#: graph inputs.  A layer with no bottoms of one of these types, or of any other type ending in ``Data`` (fork data
#: layers such as SegNet's ``DenseImageData``), is a data layer.
DATA_LAYER_TYPES = ("Data", "ImageData", "HDF5Data", "MemoryData", "WindowData", "DummyData", "Python")
#: Layer types that compute nothing at inference and are dropped (``Silence`` consumes blobs, ``Split`` copies).
PASS_THROUGH = ("Silence", "Split")
#: Layer types that only train or score a net, dropped for inference with a note (so is every type ending in
#: ``Loss``: SoftmaxWithLoss, EuclideanLoss, SigmoidCrossEntropyLoss, InfogainLoss, HingeLoss, ...).
TRAIN_ONLY_TYPES = ("Accuracy",)


def caffe_layer_kinds() -> dict[str, type[Layer]]:
    """Caffe layer type -> the IR class of the kind that reads it."""
    return {t: k.layer for t, k in caffe_readers().items()}


def _read_with_kind(lp: Any, ctx: CaffeReader, inputs: list[str], outputs: list[str], in_types: list[TensorType]):
    """The IR layers the registered kind makes of ``lp``."""
    read = caffe_readers()[lp.type].caffe.read
    assert read is not None  # the registry pairs Caffe types with read
    return read(CaffeLayer(lp, inputs, outputs, in_types), ctx)


def _synthetic_layer(name: str, type_: str, bottoms: list[str], tops: list[str]) -> Any:
    """A ``LayerParameter`` for what the file says outside ``layer { }`` (net inputs) or as a copy (Split)."""
    lp = pb.LayerParameter()
    lp.name, lp.type = name, type_
    lp.bottom.extend(bottoms)
    lp.top.extend(tops)
    return lp


def _input_layer(name: str, shape: tuple[int, ...], ctx: CaffeReader) -> Layer:
    """The graph input ``name`` of ``shape``, read as the ``Input`` layer that says it."""
    lp = _synthetic_layer(name, "Input", [], [name])
    lp.input_param.shape.add().dim.extend(shape)
    (layer,) = _read_with_kind(lp, ctx, [], [name], [])
    return layer


def _meets_rule(rule: Any, phase: int, level: int, stages: Sequence[str]) -> bool:
    # Caffe's Net::StateMeetsRule.
    if rule.HasField("phase") and rule.phase != phase:
        return False
    if rule.HasField("min_level") and level < rule.min_level:
        return False
    if rule.HasField("max_level") and level > rule.max_level:
        return False
    if any(s not in stages for s in rule.stage):
        return False
    return not any(s in stages for s in rule.not_stage)


def _included(lp: Any, phase: int, level: int, stages: Sequence[str]) -> bool:
    # Caffe's Net::FilterNet: include rules -> any must match; otherwise no exclude rule may match.
    if len(lp.include) and len(lp.exclude):
        raise FormatError(f"layer {lp.name!r}: has both include and exclude rules; Caffe allows one kind")
    if len(lp.include):
        return any(_meets_rule(r, phase, level, stages) for r in lp.include)
    return not any(_meets_rule(r, phase, level, stages) for r in lp.exclude)


def read_weights(path: str) -> dict[str, list[np.ndarray]]:
    """Layer name -> its blobs, from a .caffemodel (``shape`` or legacy 4-D; ``data`` or ``double_data``)."""
    from ...codec.caffemodel import iter_caffemodel_layers

    # streamed layer by layer: the arrays are read straight from the file (no whole-NetParameter copy)
    out: dict[str, list[np.ndarray]] = {}
    for name, blobs in iter_caffemodel_layers(path):
        if not blobs:
            continue  # a layer without parameters (ReLU, Crop...): HED's five `crop` are all here
        if name in out:
            # Caffe's CopyTrainedLayersFrom would keep the last silently; which one was meant is not ours to guess
            raise FormatError(
                f"{path}: layer {name!r} has blobs twice in the caffemodel; Caffe would keep the last one without a "
                "word — write the caffemodel with one entry per layer"
            )
        for i, blob in enumerate(blobs):
            if blob.dtype.kind == "f" and not np.isfinite(blob).all():
                bad = np.argwhere(~np.isfinite(blob))[0]
                raise FormatError(
                    f"{path}: layer {name!r} blob {i} holds {blob[tuple(bad)]} at {list(map(int, bad))}; weights "
                    "must be finite numbers (no runtime computes NaN or infinity the same way)"
                )
        out[name] = blobs
    return out


def _is_train_only(lp: Any) -> bool:
    """A layer that only trains or scores a net (every ``*Loss``, ``Accuracy``): dropped for inference."""
    return lp.type.endswith("Loss") or lp.type in TRAIN_ONLY_TYPES


def _is_data(lp: Any) -> bool:
    """A data layer: no bottoms, and a known data type (BVLC's, ``Python``, or any fork ``...Data`` type)."""
    return not len(lp.bottom) and lp.type != "Input" and (lp.type in DATA_LAYER_TYPES or lp.type.endswith("Data"))


def load_caffe(
    path: str,
    *,
    weights: str | None = None,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    inputs: Sequence[str] | Mapping[str, Sequence[int] | None] | None = None,
    outputs: Sequence[str] | None = None,
    fill_missing: str = "zeros",
    seed: int = 0,
    compact: bool = False,
    warn: Callable[[str], None] | None = None,
    dialect: str | None = None,
) -> Model:
    """Read a Caffe prototxt (TEST phase) and its optional caffemodel into a checked model.

    ``input_shapes`` gives (or overrides) the shape of net inputs and data-layer tops by name.  ``inputs`` /
    ``outputs`` cut a part out of the net (blob names; ``blob`` is its value after any in-place layers,
    ``blob@layer`` the value ``layer`` writes): only the layers between them are read.  ``inputs`` may map names to
    shapes; an inner blob without one gets the shape the layers upstream of it compute, when convertkit reads them.
    Without weights, fillers are materialised (random ones seeded by ``seed``); a Deconvolution with neither gets
    zeros (with a warning) or, with ``fill_missing='bilinear'``, bilinear kernels.  ``compact`` turns a full
    deconvolution with diagonal weights into the equivalent grouped one.  ``dialect`` is the Caffe the prototxt was
    written for (``bvlc``, ``pspnet``, ``fcn``: the FCN-era fork whose Crop without crop_param takes its offsets from
    coordinate maps; None: detected, with a warning where the readings differ).
    """
    net, lines, unknown = read_prototxt_with_lines(path)
    shapes: dict[str, tuple[int, ...]] = {}
    if input_shapes is not None:
        for name, shape in input_shapes.items():
            shapes[name] = tuple(int(d) for d in shape)
    cut_inputs: list[str] = []
    if inputs is not None:
        if isinstance(inputs, str):
            raise FormatError("inputs must be a list of blob names (or map them to shapes), not one string")
        if isinstance(inputs, Mapping):
            for name, cut_shape in inputs.items():
                cut_inputs.append(str(name))
                if cut_shape is not None:
                    shapes[str(name)] = tuple(int(d) for d in cut_shape)
        else:
            cut_inputs = [str(n) for n in inputs]
    if isinstance(outputs, str):
        raise FormatError("outputs must be a list of blob names, not one string")
    ctx = CaffeReader(
        weights=read_weights(weights) if weights else None,
        fill_missing=fill_missing,
        seed=seed,
        compact=compact,
        warn=warn,
        dialect=dialect,
    )
    return model_from_net(
        net,
        ctx,
        shapes,
        source=path,
        inputs=cut_inputs or None,
        outputs=list(outputs) if outputs is not None else None,
        lines=lines,
        unknown_fields=unknown,
    )


def _legacy_inputs(
    net: Any, shapes: dict[str, tuple[int, ...]], source: str
) -> list[tuple[str, tuple[int, ...] | None]]:
    names = list(net.input)
    dims = list(net.input_dim)
    out: list[tuple[str, tuple[int, ...] | None]] = []
    for i, name in enumerate(names):
        shape: tuple[int, ...] | None = None
        if name in shapes:
            shape = shapes[name]
        elif len(net.input_shape):
            if len(net.input_shape) != len(names):
                raise FormatError(f"{source}: {len(names)} `input:` entries but {len(net.input_shape)} input_shape")
            shape = tuple(int(d) for d in net.input_shape[i].dim)
        elif dims:
            if len(dims) != 4 * len(names):
                raise FormatError(
                    f"{source}: {len(names)} `input:` entries need {4 * len(names)} input_dim values, got {len(dims)}"
                )
            shape = tuple(dims[4 * i : 4 * i + 4])
        out.append((name, shape))
    return out


def _is_output_copy(lp: Any, top: str) -> bool:
    """Whether ``top`` is the copy convertkit's writer adds for a net output (``Split`` ``X.out`` of ``X``)."""
    return len(lp.bottom) == 1 and list(lp.top) == [top] and lp.name == top and top.startswith(f"{lp.bottom[0]}.out")


@dataclass
class _Node:
    """One layer of the net (net inputs given outside ``layer { }`` are ``Input`` nodes first)."""

    lp: Any
    role: str  # "input", "data", "train", "silence", "split", "layer"
    line: int | None
    bottoms: list[int]
    tops: list[int]
    shape: tuple[int, ...] | None = None  # a legacy net input's shape (None: not given)
    legacy: bool = False
    unknown: Sequence[UnknownField] = ()  # fields caffe.proto lacks, skipped by the parser

    @property
    def where(self) -> str:
        at = f" at line {self.line}" if self.line else ""
        return f"layer {self.lp.name!r} ({self.lp.type}){at}"


class _Graph:
    """The net's layers as a graph of values: a value is one write of a blob (in-place layers write new ones)."""

    def __init__(
        self,
        net: Any,
        shapes: dict[str, tuple[int, ...]],
        source: str,
        lines: Sequence[int],
        unknown: Mapping[int, Sequence[UnknownField]] | None = None,
    ) -> None:
        phase = pb.TEST  # as Caffe's Net(param, TEST): the phase overrides whatever the file's state says
        level = net.state.level if net.HasField("state") else 0
        stages = list(net.state.stage) if net.HasField("state") else []
        self.source = source
        self.nodes: list[_Node] = []
        self.blob: list[str] = []  # value -> blob name
        self.producer: list[int] = []  # value -> node
        self.final: dict[str, int] = {}  # blob -> its last value
        for name, shape in _legacy_inputs(net, shapes, source):
            lp = _synthetic_layer(name, "Input", [], [name])
            if shape is not None:
                lp.input_param.shape.add().dim.extend(shape)
            self._add(lp, "input", None, shape=shape, legacy=True)
        for index, lp in enumerate(net.layer):
            if not _included(lp, phase, level, stages):
                continue
            if _is_train_only(lp):
                role = "train"
            elif _is_data(lp):
                role = "data"
            elif lp.type == "Input":
                role = "input"
            elif lp.type == "Silence":
                role = "silence"
            elif lp.type == "Split":
                role = "split"
            else:
                role = "layer"
            self._add(lp, role, lines[index] if index < len(lines) else None, unknown=(unknown or {}).get(index, ()))

    def _add(self, lp: Any, role: str, line: int | None, **extra: Any) -> None:
        node = _Node(lp, role, line, [], [], **extra)
        missing = [b for b in lp.bottom if b not in self.final]
        if missing:
            raise FormatError(
                f"{self.source}: {node.where} reads blob(s) {', '.join(missing)}, which no earlier layer writes"
            )
        node.bottoms = [self.final[b] for b in lp.bottom]
        for top in lp.top:
            self.final[top] = len(self.blob)
            node.tops.append(len(self.blob))
            self.blob.append(top)
            self.producer.append(len(self.nodes))
        self.nodes.append(node)

    def default_outputs(self) -> list[int]:
        """Caffe's net outputs once train-only layers are gone: values no layer reads (``Silence`` reads), in net
        order; data layers' tops (``label``) are not outputs."""
        read = {b for n in self.nodes if n.role != "train" for b in n.bottoms}
        return [v for n in self.nodes if n.role in ("input", "split", "layer") for v in n.tops if v not in read]

    def name_of(self, value: int) -> str:
        """How ``--inputs``/``--outputs`` name ``value``: its blob when it is the blob's last value, else
        ``blob@layer``."""
        blob = self.blob[value]
        if self.final[blob] == value:
            return blob
        return f"{blob}@{self.nodes[self.producer[value]].lp.name}"

    def resolve(self, name: str, what: str) -> int:
        if name in self.final:
            return self.final[name]
        blob, _, layer = name.rpartition("@")
        for v, b in enumerate(self.blob):
            if b == blob and self.nodes[self.producer[v]].lp.name == layer:
                return v
        raise FormatError(
            f"{self.source}: {what} {name!r} is not a blob of this net (blob names are layer tops; `blob@layer` "
            f"names the value an in-place layer writes); net inputs: {', '.join(self.input_names()) or 'none'}"
        )

    def input_names(self) -> list[str]:
        """The net's inputs: net inputs, ``Input`` tops, and the data-layer tops a layer other than a train-only
        one reads (not ``label``)."""
        read = {b for n in self.nodes if n.role != "train" for b in n.bottoms}
        return [
            self.blob[v]
            for n in self.nodes
            if n.role in ("input", "data")
            for v in n.tops
            if n.role == "input" or v in read
        ]

    def upstream(self, targets: Sequence[int], stops: set[int]) -> list[int]:
        """The nodes that compute ``targets`` from ``stops`` (and the net's sources), in net order."""
        keep: set[int] = set()
        stack = [v for v in targets if v not in stops]
        seen: set[int] = set()
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            n = self.producer[v]
            keep.add(n)
            stack.extend(b for b in self.nodes[n].bottoms if b not in stops)
        return sorted(keep)


#: Fork layer types convertkit does not convert but whose output has the shape of their one bottom (elementwise
#: normalisations): enough to compute the shape of a cut input downstream of them, never read as layers.
#: PSPNet's and SegNet/ENet's ``BN`` (per-channel affine on batch statistics), SSD's ``Normalize`` (L2 across
#: channels).
SHAPE_PRESERVING_FORK_TYPES = ("BN", "Normalize")


def _shape_only(node: Any, kinds: Mapping[str, Any]) -> bool:
    """An unsupported layer that only passes its bottom's shape on (see :data:`SHAPE_PRESERVING_FORK_TYPES`)."""
    return (
        node.role == "layer"
        and node.lp.type not in kinds
        and node.lp.type in SHAPE_PRESERVING_FORK_TYPES
        and len(node.bottoms) == 1
        and len(node.tops) == 1
    )


def _unsupported(graph: _Graph, order: Sequence[int], kinds: Mapping[str, Any]) -> list[int]:
    return [
        n
        for n in order
        if graph.nodes[n].role == "train" or (graph.nodes[n].role == "layer" and graph.nodes[n].lp.type not in kinds)
    ]


def _shape_known(graph: _Graph, n: int, value: int, shapes: Mapping[str, tuple[int, ...]]) -> bool:
    node = graph.nodes[n]
    if node.role == "data":
        return graph.blob[value] in shapes
    if node.role == "input" and node.legacy:
        return node.shape is not None or graph.blob[value] in shapes
    return True


def _inferable(graph: _Graph, value: int, stops: set[int], shapes: Mapping[str, tuple[int, ...]], kinds) -> bool:
    """Whether convertkit can compute ``value``'s shape from the layers upstream of it."""
    order = graph.upstream([value], set())  # a shape follows from the net's inputs, through other cut inputs too
    if any(not _shape_only(graph.nodes[n], kinds) for n in _unsupported(graph, order, kinds)):
        return False
    needed = {b for n in order for b in graph.nodes[n].bottoms} | {value}
    return all(_shape_known(graph, n, v, shapes) for n in order for v in graph.nodes[n].tops if v in needed)


def _suggest_cut(graph: _Graph, kinds: Mapping[str, Any], shapes: Mapping[str, tuple[int, ...]]) -> str:
    """The ``--inputs``/``--outputs`` of the largest connected part of supported layers, preferring one around
    upsampling layers; '' when there is none.

    The part is read (quietly, without weights) before it is suggested: a layer of a supported type that its kind
    still refuses in this form (e.g. a Pooling with a mask top) is left out and the part chosen again, so the
    suggested command converts.
    """
    excluded: set[int] = set()
    for _ in range(24):
        suggestion, problem = _suggest_cut_once(graph, kinds, shapes, excluded)
        if problem is None:
            return suggestion
        excluded.add(problem)
    return ""


def _first_refused(
    graph: _Graph, members: list[int], ins: list[int], outs: list[int], shapes
) -> tuple[int | None, list[int]]:
    """Read the part between ``ins`` and ``outs`` quietly, without weights: the member node its kind refuses
    (None if none), and the inputs whose shapes cannot be computed after all (a refused layer upstream)."""
    ctx = CaffeReader(weights=None, fill_missing="zeros", seed=0, compact=False, warn=lambda message: None)
    given: dict[int, TensorType] = {}
    unknown: list[int] = []
    for v in ins:
        blob, name = graph.blob[v], graph.name_of(v)
        if name in shapes or blob in shapes:
            given[v] = TensorType(tuple(shapes.get(name) or shapes[blob]))
            continue
        try:
            upstream = _Build(graph, ctx, shapes, shapes_only=True)
            upstream.read(graph.upstream([v], set()), {}, [v])
            given[v] = upstream.types[upstream.ir[v]]
        except ConvertkitError:
            unknown.append(v)
    if unknown:
        return None, unknown
    try:
        _Build(graph, ctx, shapes).read(graph.upstream(outs, set(ins)), given, outs)
    except ConvertkitError as exc:
        text = str(exc)
        for n in members:
            if f"layer {graph.nodes[n].lp.name!r}" in text:
                return n, []
        return (members[0] if members else None), []
    return None, []


def _suggest_cut_once(
    graph: _Graph, kinds: Mapping[str, Any], shapes: Mapping[str, tuple[int, ...]], excluded: set[int]
) -> tuple[str, int | None]:
    supported = [
        n
        for n, node in enumerate(graph.nodes)
        if n not in excluded and (node.role == "split" or (node.role == "layer" and node.lp.type in kinds))
    ]
    parent = {n: n for n in supported}

    def find(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for n in supported:
        for b in graph.nodes[n].bottoms:
            p = graph.producer[b]
            if p in parent:
                parent[find(n)] = find(p)
    groups: dict[int, list[int]] = {}
    for n in supported:
        groups.setdefault(find(n), []).append(n)

    def upsampling(members: list[int]) -> int:
        return sum(
            1
            for n in members
            if graph.nodes[n].role == "layer" and getattr(kinds[graph.nodes[n].lp.type], "upsamples", False)
        )

    if not groups:
        return "", None

    def runnable(members: list[int]) -> list[int]:
        # the members computed from net inputs of known shape through members only: a cut needing no shapes
        chosen: set[int] = set()
        for n in sorted(members):
            if all(
                graph.producer[b] in chosen
                or (
                    graph.nodes[graph.producer[b]].role in ("input", "data")
                    and _shape_known(graph, graph.producer[b], b, shapes)
                )
                for b in graph.nodes[n].bottoms
            ):
                chosen.add(n)
        return sorted(chosen)

    candidates = list(groups.values()) + [r for r in map(runnable, groups.values()) if r]
    best = max(candidates, key=lambda ms: (upsampling(ms) > 0, upsampling(ms), ms in map(runnable, [ms]), len(ms)))
    members = set(best)
    defaults = set(graph.default_outputs())
    read_outside = {
        b for n, node in enumerate(graph.nodes) if n not in members and node.role != "train" for b in node.bottoms
    }
    ins: list[int] = []
    outs: list[int] = []
    for n in sorted(members):
        for b in graph.nodes[n].bottoms:
            if graph.producer[b] not in members and b not in ins:
                ins.append(b)
        for t in graph.nodes[n].tops:
            if (t in read_outside or t in defaults) and t not in outs:
                outs.append(t)
    if not outs:
        return "", None
    stops = set(ins)
    shown = []
    ask = []
    for v in ins:
        name = graph.name_of(v)
        if graph.blob[v] in shapes:
            shown.append(f"{name}={','.join(map(str, shapes[graph.blob[v]]))}")
        elif _inferable(graph, v, stops - {v}, shapes, kinds):
            shown.append(name)
        else:
            shown.append(f"{name}=N,C,H,W")
            ask.append(name)
    command = f"--inputs {' '.join(shown)} --outputs {' '.join(graph.name_of(v) for v in outs)}"
    around = f"around its {upsampling(best)} upsampling layer(s) " if upsampling(best) else ""
    extra = f" (give the shape of {', '.join(ask)}: it follows from layers convertkit does not read)" if ask else ""
    if not ask:
        refused, unknown = _first_refused(graph, sorted(members), ins, outs, shapes)
        if refused is not None:
            return "", refused
        for v in unknown:
            name = graph.name_of(v)
            shown[ins.index(v)] = f"{name}=N,C,H,W"
            ask.append(name)
        command = f"--inputs {' '.join(shown)} --outputs {' '.join(graph.name_of(v) for v in outs)}"
        extra = f" (give the shape of {', '.join(ask)}: it follows from layers convertkit does not read)" if ask else ""
    return f"; the supported part {around}({len(best)} layers) converts with {command}{extra}", None


def _unsupported_error(graph: _Graph, bad: list[int], kinds: Mapping[str, Any], shapes) -> UnsupportedError:
    by_type: dict[str, list[_Node]] = {}
    for n in bad:
        by_type.setdefault(graph.nodes[n].lp.type, []).append(graph.nodes[n])
    parts = []
    for t, nodes in sorted(by_type.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        listed = ", ".join(f"{n.lp.name} (line {n.line})" if n.line else n.lp.name for n in nodes)
        parts.append(f"{t} x{len(nodes)}: {listed}")
    return UnsupportedError(
        f"{graph.source}: {len(bad)} layer(s) of types convertkit does not convert: {'; '.join(parts)}; convertkit "
        f"converts {', '.join(sorted(kinds))} (plus data layers with --input-shape, Split and Silence; training "
        f"layers are dropped){_suggest_cut(graph, kinds, shapes)}"
    )


class _Build:
    """Reads nodes of a :class:`_Graph` in net order into IR layers."""

    def __init__(
        self, graph: _Graph, ctx: CaffeReader, shapes: Mapping[str, tuple[int, ...]], *, shapes_only: bool = False
    ) -> None:
        #: reading only to learn shapes: a shape-preserving fork layer stands in as an identity
        self.shapes_only = shapes_only
        self.graph, self.ctx, self.shapes = graph, ctx, shapes
        self.layers: list[Layer] = []
        self.ir: dict[int, str] = {}  # value -> IR value name
        self.types: dict[str, TensorType] = {}
        self.values = NameAllocator()
        self.layer_names = NameAllocator()
        self.used: set[str] = set()
        self.duplicates: dict[str, int] = {}
        ctx.producers, ctx.value_types = {}, self.types  # what a kind's reader may see upstream of its layer

    def new_value(self, value: int, layer_name: str) -> str:
        # an in-place layer (top == bottom) writes a new value: the blob's name once, then blob@layer
        blob = self.graph.blob[value]
        name = blob if blob not in self.used else self.values.fresh(f"{blob}@{layer_name}")
        self.values.reserve([name])
        self.used.add(name)
        self.ir[value] = name
        return name

    def add(self, layer: Layer, original: str | None = None) -> None:
        if layer.name in self.layer_names._taken:  # a duplicate Caffe layer name (Caffe accepts them)
            if original is not None:
                self.duplicates[original] = self.duplicates.get(original, 1) + 1
            object.__setattr__(layer, "name", self.layer_names.fresh(layer.name))
        self.layer_names.reserve([layer.name])
        self.layers.append(layer)
        self.ctx.producers.update(dict.fromkeys(layer.outputs, layer))

    def graph_input(self, value: int, shape: tuple[int, ...]) -> None:
        name = self.new_value(value, self.graph.blob[value])
        layer = _input_layer(name, shape, self.ctx)
        self.add(layer)
        self.types[name] = TensorType(shape)

    def read(self, order: Sequence[int], given: Mapping[int, TensorType], outputs: Sequence[int]) -> None:
        graph, source = self.graph, self.graph.source
        for value, t in given.items():
            self.graph_input(value, t.shape)
        needed = {b for n in order for b in graph.nodes[n].bottoms} | set(outputs)
        out_set = set(outputs)
        for n in order:
            node = graph.nodes[n]
            lp = node.lp
            if node.role == "data" or (node.role == "input" and (node.legacy or any(t in self.shapes for t in lp.top))):
                for value, top in zip(node.tops, lp.top, strict=True):
                    if value not in needed or value in given:
                        continue
                    shape = self.shapes.get(top, node.shape)
                    if shape is None:
                        what = "net input" if node.legacy else f"{node.where}, a data layer,"
                        raise FormatError(
                            f"{source}: {what} {top!r} has no shape; give --input-shape {top}=N,C,H,W"
                            if node.legacy
                            else f"{source}: {what} gives no shape for its top {top!r}; give --input-shape "
                            f"{top}=N,C,H,W"
                        )
                    self.graph_input(value, shape)
                continue
            inputs = [self.ir[b] for b in node.bottoms]
            if node.role == "split":
                for i, (value, top) in enumerate(zip(node.tops, lp.top, strict=True)):
                    if value not in out_set or _is_output_copy(lp, top):
                        self.ir[value] = inputs[0]
                        continue
                    # a net output of its own (Caffe copies the blob): kept under its name as a one-input Concat
                    name = lp.name if i == 0 else f"{lp.name}_{i}"
                    output = self.new_value(value, lp.name)
                    (copy,) = _read_with_kind(
                        _synthetic_layer(name, "Concat", [lp.bottom[0]], [top]),
                        self.ctx,
                        [inputs[0]],
                        [output],
                        [self.types[inputs[0]]],
                    )
                    self.types[output] = self.types[inputs[0]]
                    self.add(copy)
                continue
            if node.unknown and not self.shapes_only:
                raise _unknown_field_error(source, node)
            outs = [self.new_value(v, lp.name) for v in node.tops]
            if self.shapes_only and _shape_only(node, caffe_layer_kinds()):
                lp = _synthetic_layer(lp.name, "Dropout", list(lp.bottom), list(lp.top))
            try:
                built = _read_with_kind(lp, self.ctx, inputs, outs, [self.types[v] for v in inputs])
            except ConvertkitError as exc:
                if not (self.shapes_only and len(lp.top) > 1):
                    raise type(exc)(f"{source}: {exc}") from exc
                # for shapes only: the layer's first top, without the others its kind refuses (a pooling's mask)
                first = pb.LayerParameter()
                first.CopyFrom(lp)
                del first.top[1:]
                try:
                    built = _read_with_kind(first, self.ctx, inputs, outs[:1], [self.types[v] for v in inputs])
                except ConvertkitError:
                    raise type(exc)(f"{source}: {exc}") from exc
            for layer in built:
                try:
                    out_types = layer.infer([self.types[v] for v in layer.inputs])
                except ConvertkitError as exc:
                    raise type(exc)(f"{source}: {exc}") from exc
                self.types.update(zip(layer.outputs, out_types, strict=True))
                self.add(layer, lp.name)
            for top, written in zip(lp.top, outs, strict=False):
                if top in lp.bottom and written in self.types:
                    before = self.types[inputs[list(lp.bottom).index(top)]]
                    if self.types[written].shape != before.shape:
                        raise FormatError(
                            f"{source}: {node.where} writes its output into its input blob {top!r} (top == bottom), "
                            f"but the output is {self.types[written]} and the input {before}: Caffe runs a layer in "
                            "place only when the shape stays; give the top its own name"
                        )


def _unknown_field_error(source: str, node: _Node) -> FormatError:
    """A layer convertkit reads sets fields ``caffe.proto`` lacks: reading it without them would be a guess."""
    shown = "; ".join(f"line {u.line}: {u.message} has no field {u.name!r}{u.suggestion()}" for u in node.unknown[:5])
    more = f" (and {len(node.unknown) - 5} more)" if len(node.unknown) > 5 else ""
    return FormatError(
        f"{source}: {node.where} sets field(s) Caffe does not define ({shown}{more}); convertkit would read the layer "
        "as if they were absent, which is not what the file says: fix the spelling, or cut the layer out with "
        "--inputs/--outputs if it is a fork's extension"
    )


def _quiet(ctx: CaffeReader) -> CaffeReader:
    """A reader with ``ctx``'s options that says nothing (for the layers read only to infer a cut's shapes)."""
    return CaffeReader(
        weights=ctx.weights,
        fill_missing=ctx.fill_missing or "zeros",
        seed=ctx.seed,
        compact=ctx.compact,
        warn=lambda message: None,
        dialect=ctx.dialect,
    )


def model_from_net(
    net: Any,
    ctx: CaffeReader,
    shapes: dict[str, tuple[int, ...]],
    source: str,
    *,
    inputs: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
    lines: Sequence[int] = (),
    unknown_fields: Mapping[int, Sequence[UnknownField]] | None = None,
) -> Model:
    """Build the IR from a parsed ``NetParameter`` in the TEST phase (level and stages from ``net.state``).

    Train-only layers (losses, ``Accuracy``) and ``Silence`` are dropped (one note lists them); data layers' tops
    that the remaining layers read are graph inputs; ``inputs``/``outputs`` cut the part between them out (see
    :func:`load_caffe`); ``lines`` (each ``net.layer``'s line) locate layers in messages; ``unknown_fields`` (by
    layer index) are the fields the parser skipped: a layer convertkit reads may hold none.
    """
    kinds = caffe_layer_kinds()
    graph = _Graph(net, shapes, source, lines, unknown_fields)
    cut_in = [graph.resolve(name, "--inputs names") for name in inputs or ()]
    wanted = [graph.resolve(name, "--outputs names") for name in outputs] if outputs else graph.default_outputs()
    stops = set(cut_in)
    order = graph.upstream(wanted, stops)
    unreached = [graph.name_of(v) for v in cut_in if not any(v in graph.nodes[n].bottoms for n in order)]
    if unreached:
        raise FormatError(
            f"{source}: --inputs {', '.join(unreached)}: no layer between the inputs and the outputs "
            f"({', '.join(graph.name_of(v) for v in wanted)}) reads it"
        )
    # Silence (convertkit's own writer adds it) computes nothing and reads its bottoms: dropped without a note
    dropped = [n for n in graph.nodes if n.role == "train"]
    if dropped:
        ctx.note(
            f"{source}: dropped {len(dropped)} layer(s) that only train or score a net, for inference: "
            + ", ".join(f"{n.lp.name} ({n.lp.type})" for n in dropped)
        )
    bad = _unsupported(graph, order, kinds)
    if bad:
        raise _unsupported_error(graph, bad, kinds, shapes)

    given: dict[int, TensorType] = {}
    for v in cut_in:
        blob = graph.blob[v]
        name = graph.name_of(v)
        if name in shapes or blob in shapes:
            given[v] = TensorType(shapes.get(name) or shapes[blob])
            continue
        others = stops - {v}
        if not _inferable(graph, v, others, shapes, kinds):
            raise FormatError(
                f"{source}: --inputs {name} has no shape, and convertkit cannot compute it from the layers upstream "
                f"of it; give --inputs {name}=N,C,H,W"
            )
        upstream = _Build(graph, _quiet(ctx), shapes, shapes_only=True)
        upstream.read(graph.upstream([v], set()), {}, [v])
        given[v] = upstream.types[upstream.ir[v]]

    tops = {graph.blob[v] for n in graph.nodes if n.role in ("input", "data") for v in n.tops}
    known = tops | {graph.name_of(v) for v in cut_in} | {graph.blob[v] for v in cut_in}
    unused = sorted(set(shapes) - known)
    if unused:
        raise FormatError(
            f"{source}: --input-shape names {', '.join(unused)}, which is not a net input or a data layer's top "
            f"(inputs here: {', '.join(graph.input_names()) or 'none'}; an inner blob is cut with --inputs NAME)"
        )

    build = _Build(graph, ctx, shapes)
    build.read(order, given, wanted)
    if build.duplicates:
        ctx.warn(
            f"{source}: layer names used more than once (Caffe accepts them): "
            + ", ".join(f"{name} x{count}" for name, count in build.duplicates.items())
            + "; the later ones are named name_2, name_3, ... here"
        )
    net_outputs: list[str] = []
    for v in wanted:
        name = build.ir[v]
        if name not in net_outputs:
            net_outputs.append(name)
    # convertkit's stock forms of kinds Caffe lacks (a one-hot Deconvolution is a DepthToSpace) fold back
    layers = fuse(build.layers, build.types, net_outputs, stage="caffe-import")
    try:
        return Model(layers, net_outputs, name=net.name or "convertkit")
    except ConvertkitError as exc:
        raise type(exc)(f"{source}: {exc}") from exc
