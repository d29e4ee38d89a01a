"""Caffe import: a prototxt (and optionally its .caffemodel) into a checked :class:`~convertkit.ir.Model`.

Graph plumbing only: phase rules, net inputs, blob names, weights by layer name.  Each Caffe layer type is read by
the kind whose Caffe facet declares it (:class:`convertkit.registry.CaffeFacet`); net inputs given outside
``layer { }`` and Split copies of net outputs are read as the ``Input`` / ``Concat`` layers that say the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ... import layers as _layers  # noqa: F401  (registers the layer kinds)
from ...codec.caffe import (
    FILL_MISSING,
    CaffeLayer,
    CaffeReader,
    filler_seed,
    pb,
    read_prototxt,
)
from ...codec.names import NameAllocator
from ...errors import ConvertkitError, FormatError, UnsupportedError
from ...ir import Layer, Model, TensorType
from ...registry import caffe_readers

__all__ = ["CaffeReader", "load_caffe", "caffe_layer_kinds", "filler_seed", "FILL_MISSING"]
#: Layer types that only feed data (no computation in a deployed net); ``--input-shape`` turns their tops into
#: graph inputs.
DATA_LAYER_TYPES = ("Data", "ImageData", "HDF5Data", "MemoryData", "WindowData", "DummyData", "Python", "Input")
#: Layer types that compute nothing at inference and are dropped (``Silence`` consumes blobs, ``Split`` copies).
PASS_THROUGH = ("Silence", "Split")


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
    return dict(iter_caffemodel_layers(path))


def load_caffe(
    path: str,
    *,
    weights: str | None = None,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    fill_missing: str = "zeros",
    seed: int = 0,
    compact: bool = False,
    warn: Callable[[str], None] | None = None,
) -> Model:
    """Read a Caffe prototxt (TEST phase) and its optional caffemodel into a checked model.

    ``input_shapes`` gives (or overrides) the shape of net inputs and data-layer tops by name.  Without weights,
    fillers are materialised (random ones seeded by ``seed``); a Deconvolution with neither gets zeros (with a
    warning) or, with ``fill_missing='bilinear'``, bilinear kernels.  ``compact`` turns a full deconvolution with
    diagonal weights into the equivalent grouped one.
    """
    net = read_prototxt(path)
    shapes: dict[str, tuple[int, ...]] = {}
    if input_shapes is not None:
        for name, shape in input_shapes.items():
            shapes[name] = tuple(int(d) for d in shape)
    ctx = CaffeReader(
        weights=read_weights(weights) if weights else None,
        fill_missing=fill_missing,
        seed=seed,
        compact=compact,
        warn=warn,
    )
    return model_from_net(net, ctx, shapes, source=path)


def _legacy_inputs(net: Any, shapes: dict[str, tuple[int, ...]], source: str) -> list[tuple[str, tuple[int, ...]]]:
    names = list(net.input)
    dims = list(net.input_dim)
    out = []
    for i, name in enumerate(names):
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
        else:
            raise FormatError(f"{source}: net input {name!r} has no shape; give --input-shape {name}=N,C,H,W")
        out.append((name, shape))
    return out


def _tops_read_later(active: list[Any]) -> set[tuple[int, int]]:
    """``(layer index, top index)`` of every top some later layer reads (before the blob is written again)."""
    latest: dict[str, tuple[int, int]] = {}
    read: set[tuple[int, int]] = set()
    for index, lp in enumerate(active):
        for bottom in lp.bottom:
            if bottom in latest:
                read.add(latest[bottom])
        for i, top in enumerate(lp.top):
            latest[top] = (index, i)
    return read


def _is_output_copy(lp: Any, top: str) -> bool:
    """Whether ``top`` is the copy convertkit's writer adds for a net output (``Split`` ``X.out`` of ``X``)."""
    return len(lp.bottom) == 1 and list(lp.top) == [top] and lp.name == top and top.startswith(f"{lp.bottom[0]}.out")


def model_from_net(net: Any, ctx: CaffeReader, shapes: dict[str, tuple[int, ...]], source: str) -> Model:
    """Build the IR from a parsed ``NetParameter`` in the TEST phase (level and stages from ``net.state``)."""
    phase = pb.TEST  # as Caffe's Net(param, TEST): the phase overrides whatever the file's state says
    level = net.state.level if net.HasField("state") else 0
    stages = list(net.state.stage) if net.HasField("state") else []
    kinds = caffe_layer_kinds()
    active = [lp for lp in net.layer if _included(lp, phase, level, stages)]

    unsupported: dict[str, list[str]] = {}
    for lp in active:
        if lp.type in kinds or lp.type in PASS_THROUGH:
            continue
        if lp.type in DATA_LAYER_TYPES and not len(lp.bottom):
            continue
        unsupported.setdefault(lp.type, []).append(lp.name)
    if unsupported:
        parts = []
        for t, names in sorted(unsupported.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            parts.append(f"{t} x{len(names)} ({shown})")
        raise UnsupportedError(
            f"{source}: {sum(map(len, unsupported.values()))} layer(s) of types convertkit does not convert: "
            f"{'; '.join(parts)}; convertkit converts {', '.join(sorted(kinds))} (plus data layers with "
            "--input-shape, Split and Silence)"
        )

    read_later = _tops_read_later(active)
    layers: list[Layer] = []
    # layers and the Split-copied net outputs in net order (Caffe's net outputs: blobs no layer reads)
    sequence: list[Layer | str] = []
    value_of: dict[str, str] = {}
    types: dict[str, TensorType] = {}
    used: set[str] = set()
    values = NameAllocator()
    layer_names = NameAllocator()
    consumed: set[str] = set()

    def new_value(blob: str, layer_name: str) -> str:
        # an in-place layer (top == bottom) writes a new value: the blob's name once, then blob@layer
        name = blob if blob not in used else values.fresh(f"{blob}@{layer_name}")
        values.reserve([name])
        used.add(name)
        value_of[blob] = name
        return name

    for name, shape in _legacy_inputs(net, shapes, source):
        layer = _input_layer(new_value(name, name), shape, ctx)
        layers.append(layer)
        types[layer.name] = TensorType(shape)
    for index, lp in enumerate(active):
        where = f"layer {lp.name!r} ({lp.type})"
        if (
            lp.type in DATA_LAYER_TYPES
            and not len(lp.bottom)
            and (lp.type != "Input" or any(t in shapes for t in lp.top))
        ):
            given = [t for t in lp.top if t in shapes]
            if not given:
                raise FormatError(
                    f"{source}: {where} gives no shape for its top(s) {', '.join(lp.top)}; "
                    f"give --input-shape {lp.top[0]}=N,C,H,W"
                )
            for top in given:
                layer = _input_layer(new_value(top, top), shapes[top], ctx)
                layers.append(layer)
                types[layer.name] = TensorType(shapes[top])
            continue
        missing = [b for b in lp.bottom if b not in value_of]
        if missing:
            raise FormatError(f"{source}: {where} reads blob(s) {', '.join(missing)}, which no earlier layer writes")
        inputs = [value_of[b] for b in lp.bottom]
        consumed.update(inputs)
        if lp.type == "Silence":
            continue
        if lp.type == "Split":
            for i, top in enumerate(lp.top):
                if (index, i) in read_later:
                    value_of[top] = inputs[0]
                elif _is_output_copy(lp, top):
                    value_of[top] = inputs[0]
                    sequence.append(inputs[0])
                else:
                    # a net output of its own (Caffe copies the blob): kept under its name as a one-input Concat
                    layer_names.reserve(layer.name for layer in layers)
                    name = layer_names.fresh(lp.name if i == 0 else f"{lp.name}_{i}")
                    output = new_value(top, lp.name)
                    (copy,) = _read_with_kind(
                        _synthetic_layer(name, "Concat", [lp.bottom[0]], [top]),
                        ctx,
                        [inputs[0]],
                        [output],
                        [types[inputs[0]]],
                    )
                    types[output] = types[inputs[0]]
                    layers.append(copy)
                    sequence.append(copy)
            continue
        outputs = [new_value(t, lp.name) for t in lp.top]
        try:
            built = _read_with_kind(lp, ctx, inputs, outputs, [types[v] for v in inputs])
        except ConvertkitError as exc:
            raise type(exc)(f"{source}: {exc}") from exc
        for layer in built:
            in_types = [types[v] for v in layer.inputs]
            try:
                out_types = layer.infer(in_types)
            except ConvertkitError as exc:
                raise type(exc)(f"{source}: {exc}") from exc
            types.update(zip(layer.outputs, out_types, strict=True))
            layers.append(layer)
            sequence.append(layer)
    unused = sorted(set(shapes) - {layer.name for layer in layers if layer.graph_input})
    if unused:
        raise FormatError(
            f"{source}: --input-shape names {', '.join(unused)}, which is not a net input or a data layer's top "
            f"(inputs here: {', '.join(v for v in value_of if v in used) or 'none'})"
        )
    # Caffe's net outputs: blobs no layer reads (Silence counts as reading), in net order; a blob Split-copied
    # for a net output (convertkit's writer adds such copies) is that output.
    net_outputs: list[str] = []
    for item in sequence:
        for v in [item] if isinstance(item, str) else [v for v in item.outputs if v not in consumed]:
            if v not in net_outputs:
                net_outputs.append(v)
    try:
        return Model(layers, net_outputs, name=net.name or "convertkit")
    except ConvertkitError as exc:
        raise type(exc)(f"{source}: {exc}") from exc
