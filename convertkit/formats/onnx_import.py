"""ONNX import: graph plumbing only — each layer kind converts its own ONNX ops through :class:`OnnxNode`.

A layer kind that can be built from ONNX nodes declares the op types and its ``read(node: OnnxNode) -> Layer`` in
its ONNX facet (:class:`convertkit.registry.OnnxFacet`); this module finds them through the registry, so the table
of importable ops is the union of what the kinds declare.  This module itself handles only what is not a
layer: graph inputs, initializers and ``Constant`` nodes (constants), ``Identity`` (renaming), shape arithmetic
that computes constants (evaluated at import, since every shape is static), the report of unsupported ops, and the
per-node error context.

Multi-node forms are IR passes (:mod:`convertkit.passes`): every node is read on its own (a kind may decline a
node that is not its form: None), then :func:`convertkit.passes.fuse` folds convertkit's own exports (and the same
constructs from other exporters) back into one layer each.  A node read by a kind that exists here only inside such
forms (``read_alone=False``: ``Pad``, a run-time ``Add``) and left over is reported as unsupported, with every
other unsupported op, in one error.

The IR needs static shapes and constant weights:

* graph inputs with symbolic dimensions are refused unless ``input_shapes`` gives their shape;
* a graph input that a node reads as a constant (weights, Resize scales/sizes) can be bound with ``constants``
  (the ONNX backend node tests feed weights and scales as inputs).

Conversions that are exact but rest on a choice where ONNX, its shape inference and runtimes disagree are reported
as :class:`OnnxImportWarning` (``warnings.warn``), naming the node; the CLI prints them on stderr.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import layers as _layers  # noqa: F401  (registers the layer kinds)
from ..codec.names import NameAllocator
from ..codec.onnx import OnnxImportWarning, OnnxNode, attribute_value, declared_type
from ..errors import ConvertkitError, FormatError, UnsupportedError
from ..ir import DTYPES, Layer, Model, TensorType
from ..passes import fuse
from ..registry import LayerKind, kind_of, onnx_graph_input, onnx_readers

__all__ = [
    "OnnxImportWarning",
    "OnnxNode",
    "onnx_op_table",
    "from_onnx",
    "load_onnx",
    "GLUE_OPS",
    "SHAPE_OPS",
]

#: Ops this module resolves itself, without a layer: they only name or rename values.
GLUE_OPS: tuple[str, ...] = ("Constant", "Identity")
#: Shape arithmetic evaluated at import time when it computes constants (Resize sizes from ``Shape(x)``).
SHAPE_OPS: tuple[str, ...] = (
    "Shape",
    "Gather",
    "Slice",
    "Concat",
    "Unsqueeze",
    "Squeeze",
    "Reshape",
    "Cast",
    "Mul",
    "Div",
    "Add",
    "Sub",
    "Floor",
    "Ceil",
)


def onnx_op_table() -> dict[str, list[LayerKind[Layer]]]:
    """ONNX op type -> the layer kinds whose ONNX facets may read it (tried in order)."""
    return onnx_readers()


def _default_opset(proto: Any) -> int:
    for opset in proto.opset_import:
        if opset.domain in ("", "ai.onnx"):
            return int(opset.version)
    raise FormatError("the ONNX model imports no default-domain opset (ai.onnx); it cannot hold standard ops")


def _tensor_type(vi: Any, input_shapes: Mapping[str, tuple[int, ...]]) -> TensorType:
    if not vi.type.HasField("tensor_type"):
        raise UnsupportedError(f"graph input {vi.name!r} is not a tensor; convertkit imports tensor inputs only")
    dims, dtype = declared_type(vi)
    if dtype not in DTYPES:
        raise UnsupportedError(
            f"graph input {vi.name!r} has element type {dtype}; convertkit models take {', '.join(DTYPES)}"
        )
    if vi.name in input_shapes:
        return TensorType(tuple(int(d) for d in input_shapes[vi.name]), dtype)
    if dims is None:
        raise UnsupportedError(f"graph input {vi.name!r} has no shape; give one with --input-shape {vi.name}=N,C,H,W")
    for d in dims:
        if isinstance(d, int) and d < 1:
            raise UnsupportedError(
                f"graph input {vi.name!r} has a dimension of size {d} (shape {list(dims)}); convertkit needs every "
                f"size >= 1 — give a shape with --input-shape {vi.name}=N,C,H,W"
            )
        if isinstance(d, str):
            raise UnsupportedError(
                f"graph input {vi.name!r} has a symbolic dimension {d!r} (shape {list(dims)}); convertkit needs "
                f"static shapes — give one with --input-shape {vi.name}=N,C,H,W "
                f"(convertkit.load(path, input_shapes={{{vi.name!r}: (...)}}))"
            )
    return TensorType(tuple(int(d) for d in dims), dtype)


def _constant_node_value(node: Any, name: str) -> np.ndarray:
    attrs = {a.name: attribute_value(a) for a in node.attribute}
    if "value" in attrs:
        return np.asarray(attrs["value"])
    for key, dtype in (
        ("value_float", np.float32),
        ("value_floats", np.float32),
        ("value_int", np.int64),
        ("value_ints", np.int64),
    ):
        if key in attrs:
            return np.asarray(attrs[key], dtype=dtype)
    raise UnsupportedError(
        f"ONNX node {name!r} (Constant): only value, value_float(s) and value_int(s) constants are supported, "
        f"got {', '.join(sorted(attrs)) or 'no attribute'}"
    )


def _node_names(nodes: list[Any]) -> list[str]:
    """Unique layer names: the node's own name, else ``OpType_INDEX``."""
    names = NameAllocator()
    return [names.fresh(node.name or f"{node.op_type}_{index}") for index, node in enumerate(nodes)]


def _constant_nodes(nodes: list[Any], constants: set[str]) -> set[int]:
    """Indices of the shape-arithmetic nodes that compute constants (every value's shape is static).

    ``Shape`` always does; the other :data:`SHAPE_OPS` do when all their inputs are constants.  This is how
    exporters spell a Resize's ``sizes`` (``Concat(Slice(Shape(x)), [h, w])``).
    """
    known = set(constants)
    out: set[int] = set()
    for index, node in enumerate(nodes):
        if node.domain not in ("", "ai.onnx") or node.op_type not in SHAPE_OPS:
            if node.op_type in ("Constant", "Identity") and all(v in known for v in node.input):
                known.update(node.output)
            continue
        if node.op_type == "Shape" or all(v in known for v in node.input if v):
            out.add(index)
            known.update(node.output)
    return out


def _fold(
    node: Any, name: str, values: Mapping[str, np.ndarray], types: Mapping[str, TensorType], opset: int
) -> dict[str, np.ndarray]:
    """Evaluate a shape-arithmetic node on constants (``Shape`` from the static type)."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    if node.op_type == "Shape":
        source = node.input[0]
        if source in types:
            shape = types[source].shape
        else:
            shape = tuple(np.shape(values[source]))
        attrs = {a.name: attribute_value(a) for a in node.attribute}
        dims = np.array(shape, dtype=np.int64)[slice(attrs.get("start", 0), attrs.get("end"))]
        return {node.output[0]: dims}
    inputs = [v for v in node.input if v]
    graph = onnx.helper.make_graph(
        [node],
        "fold",
        [
            onnx.helper.make_tensor_value_info(
                v, onnx.helper.np_dtype_to_tensor_dtype(values[v].dtype), list(values[v].shape)
            )
            for v in inputs
        ],
        [onnx.helper.make_value_info(v, onnx.TypeProto()) for v in node.output],
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)])
    try:
        results = ReferenceEvaluator(model).run(None, {v: values[v] for v in inputs})
    except Exception as exc:  # the evaluator raises whatever the op raises on bad constants
        raise FormatError(f"ONNX node {name!r} ({node.op_type}): cannot evaluate its constant inputs: {exc}") from exc
    return {v: np.asarray(r) for v, r in zip(node.output, results, strict=True)}


def _unsupported_report(
    nodes: list[Any],
    names: list[str],
    table: Mapping[str, list[LayerKind[Layer]]],
    skip: set[int],
    also: set[int] | None = None,
) -> None:
    """Raise one error listing every op type convertkit cannot import here, with the nodes of each.

    Listed: nodes of other domains, of op types no kind reads (unless in ``skip``), and the nodes in ``also``
    (read by no kind in the form they have).
    """
    missing: dict[str, list[str]] = {}
    for index, (node, name) in enumerate(zip(nodes, names, strict=True)):
        domain = node.domain if node.domain not in ("", "ai.onnx") else ""
        unknown = node.op_type not in table and node.op_type not in GLUE_OPS and index not in skip
        if domain or unknown or index in (also or set()):
            key = f"{domain}::{node.op_type}" if domain else node.op_type
            missing.setdefault(key, []).append(name)
    if missing:
        listed = "; ".join(
            f"{op} (node{'s' if len(ns) > 1 else ''} {', '.join(map(repr, ns))})" for op, ns in sorted(missing.items())
        )
        alone = sorted({op for op, ks in table.items() if any(k.onnx.read_alone for k in ks)} | set(GLUE_OPS))
        inside = sorted(op for op, ks in table.items() if not any(k.onnx.read_alone for k in ks))
        raise UnsupportedError(
            f"the ONNX model uses {len(missing)} op type(s) convertkit cannot import: {listed}. "
            f"convertkit imports {', '.join(alone)}; {', '.join(inside)} inside its exact multi-node forms "
            f"(e.g. ConvTranspose -> Pad -> Add for output_padding past the stride); and shape arithmetic "
            f"({', '.join(SHAPE_OPS)}) where it computes constants"
        )


def _resolve_identities(
    graph: Any, nodes: list[Any], names: list[str], constants: set[str]
) -> tuple[list[Any], list[str]]:
    """Drop run-time ``Identity`` nodes by renaming values, keeping graph output names.

    ``y = Identity(x)``: consumers of ``y`` read ``x``; when ``y`` is a graph output, ``x``'s producer writes
    ``y`` instead (and ``x``'s consumers read ``y``), so the output keeps its name.  An Identity of a constant
    stays (the import loop copies the constant).
    """
    import onnx

    graph_inputs = {vi.name for vi in graph.input}
    graph_outputs = {vi.name for vi in graph.output}
    work = []
    for node in nodes:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        work.append(copy)
    out_nodes: list[Any] = []
    out_names: list[str] = []

    def rename(old: str, new: str) -> None:
        for n in work:
            for i, v in enumerate(n.input):
                if v == old:
                    n.input[i] = new
            for i, v in enumerate(n.output):
                if v == old:
                    n.output[i] = new

    for node, name in zip(work, names, strict=True):
        if node.op_type != "Identity" or node.domain not in ("", "ai.onnx"):
            out_nodes.append(node)
            out_names.append(name)
            continue
        if len(node.input) != 1 or len(node.output) != 1:
            raise FormatError(f"ONNX node {name!r} (Identity) needs one input and one output")
        x, y = node.input[0], node.output[0]
        if x in constants:
            constants.add(y)
            out_nodes.append(node)
            out_names.append(name)
        elif y not in graph_outputs:
            node.ClearField("output")
            rename(y, x)
        elif x in graph_inputs or x in graph_outputs:
            raise UnsupportedError(
                f"ONNX node {name!r} (Identity) copies {'graph input' if x in graph_inputs else 'graph output'} "
                f"{x!r} to graph output {y!r}; convertkit has no copy layer — drop the Identity or the duplicate "
                "output"
            )
        else:
            node.ClearField("input")
            rename(x, y)
    return out_nodes, out_names


def _check_names_are_text(proto: Any, source: str) -> None:
    """ONNX's strings are proto2 ``string`` fields, which protobuf does not check: invalid UTF-8 comes back as
    bytes.  Refuse it here, naming where, rather than fail somewhere inside the conversion."""
    g = proto.graph
    named: list[tuple[str, Any]] = [("the graph name", g.name)]
    for i, node in enumerate(g.node):
        named += [
            (f"node {i}'s name", node.name),
            (f"node {i}'s op_type", node.op_type),
            (f"node {i}'s domain", node.domain),
        ]
        named += [(f"an input of node {i}", v) for v in node.input] + [
            (f"an output of node {i}", v) for v in node.output
        ]
        named += [(f"an attribute name of node {i}", a.name) for a in node.attribute]
    for what, infos in (("graph input", g.input), ("graph output", g.output), ("value_info", g.value_info)):
        named += [(f"a {what} name", vi.name) for vi in infos]
    named += [("an initializer name", t.name) for t in g.initializer]
    for what, value in named:
        if isinstance(value, bytes):
            raise FormatError(f"{source}: {what} ({value[:40]!r}) is not UTF-8 text; ONNX names are strings")


def _cut(
    proto: Any,
    inputs: Sequence[str] | Mapping[str, Sequence[int] | None],
    outputs: Sequence[str] | None,
    input_shapes: Mapping[str, tuple[int, ...]],
    constants: Mapping[str, np.ndarray] | None,
    source: str,
    arrays: Mapping[str, np.ndarray] | None = None,
) -> tuple[Any, dict[str, tuple[int, ...]]]:
    """The part of ``proto`` between the values ``inputs`` and ``outputs`` (the graph's outputs by default), as
    its own model: nodes outside are dropped unread.  An inner input without a shape gets the one the nodes
    upstream of it compute (when convertkit reads them); the shapes to give the cut model are returned with it."""
    import onnx

    graph = proto.graph
    shapes = dict(input_shapes)
    names: list[str] = []
    if isinstance(inputs, Mapping):
        for name, shape in inputs.items():
            names.append(str(name))
            if shape is not None:
                shapes[str(name)] = tuple(int(d) for d in shape)
    else:
        names = [str(n) for n in inputs]
    producer: dict[str, int] = {}
    for index, node in enumerate(graph.node):
        for v in node.output:
            producer[v] = index
    graph_inputs = {vi.name: vi for vi in graph.input}
    known = set(producer) | set(graph_inputs) | {i.name for i in graph.initializer}
    wanted = list(outputs) if outputs else [vi.name for vi in graph.output]
    for what, values in (("--inputs", names), ("--outputs", wanted)):
        unknown = [v for v in values if v not in known]
        if unknown:
            raise FormatError(
                f"{source}: {what} names {', '.join(map(repr, unknown))}, which no node computes and no graph input "
                f"is (graph inputs: {', '.join(graph_inputs) or 'none'})"
            )

    def upstream(targets: Sequence[str], stops: set[str]) -> list[int]:
        keep: set[int] = set()
        stack = [v for v in targets if v not in stops]
        seen: set[str] = set()
        while stack:
            v = stack.pop()
            if v in seen or v not in producer:
                continue
            seen.add(v)
            keep.add(producer[v])
            stack.extend(x for x in graph.node[producer[v]].input if x and x not in stops)
        return sorted(keep)

    def sub_model(nodes: list[int], ins: list[Any], outs: list[str]) -> Any:
        used = {x for i in nodes for x in graph.node[i].input}
        kept_inputs = [vi for vi in graph.input if vi.name in used and vi.name not in {v.name for v in ins}]
        sub = onnx.helper.make_graph(
            [graph.node[i] for i in nodes],
            graph.name or "convertkit",
            [*ins, *kept_inputs],
            [onnx.helper.make_value_info(v, onnx.TypeProto()) for v in outs],
            initializer=[i for i in graph.initializer if i.name in used],
        )
        model = onnx.ModelProto()
        model.CopyFrom(proto)
        model.graph.CopyFrom(sub)
        return model

    stops = set(names)
    new_inputs = []
    for name in names:
        if name in graph_inputs:
            new_inputs.append(graph_inputs[name])
            continue
        if name not in shapes:
            part = sub_model(upstream([name], stops - {name}), [], [name])
            used = {vi.name for vi in part.graph.input}
            try:
                upper = from_onnx(
                    part,
                    input_shapes={k: v for k, v in shapes.items() if k in used},
                    constants={k: v for k, v in (constants or {}).items() if k in used},
                    source=source,
                    arrays=arrays,
                )
            except ConvertkitError as exc:
                raise FormatError(
                    f"{source}: --inputs {name} has no shape, and convertkit cannot compute it from the nodes upstream "
                    f"of it ({exc}); give --inputs {name}=N,C,H,W"
                ) from exc
            t = upper.types[name]
            shapes[name] = t.shape
            dtype = t.dtype
        else:
            dtype = "float32"
        new_inputs.append(
            onnx.helper.make_tensor_value_info(
                name, onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), list(shapes[name])
            )
        )
    order = upstream(wanted, stops)
    model = sub_model(order, new_inputs, wanted)
    used = {vi.name for vi in model.graph.input}
    unread = [n for n in names if not any(n in graph.node[i].input for i in order)]
    if unread:
        raise FormatError(
            f"{source}: --inputs {', '.join(unread)}: no node between the inputs and the outputs "
            f"({', '.join(wanted)}) reads it"
        )
    return model, {k: v for k, v in shapes.items() if k in used}


def from_onnx(
    proto: Any,
    *,
    input_shapes: Mapping[str, tuple[int, ...]] | None = None,
    constants: Mapping[str, np.ndarray] | None = None,
    source: str = "ONNX model",
    arrays: Mapping[str, np.ndarray] | None = None,
    inputs: Sequence[str] | Mapping[str, Sequence[int] | None] | None = None,
    outputs: Sequence[str] | None = None,
) -> Model:
    """Convert an ``onnx.ModelProto`` into a checked :class:`Model`.

    ``arrays`` holds initializers already read (by name; their tensors in ``proto`` may carry no data).

    Args:
        proto: the model.
        input_shapes: static shapes for graph inputs whose shapes are symbolic or missing.
        constants: values for graph inputs that nodes read as constants (weights, Resize scales or sizes); the
            input is removed from the model's inputs.
        source: how to name the model in messages (the file path).
        inputs, outputs: value names that cut a part out of the graph (only the nodes between them are read;
            ``inputs`` may map names to shapes, and an inner value without one gets the shape the nodes upstream
            of it compute).

    Raises:
        UnsupportedError: ops convertkit cannot import (all listed at once), symbolic shapes, run-time weights.
        FormatError: a malformed graph.
        ValidationError: a node that breaks its layer kind's rules (negative pads, group not dividing C...).
    """
    import onnx

    if isinstance(proto, (str, os.PathLike)):
        return load_onnx(
            os.fspath(proto), input_shapes=input_shapes, constants=constants, inputs=inputs, outputs=outputs
        )
    if not isinstance(proto, onnx.ModelProto):
        raise FormatError(f"from_onnx takes an onnx.ModelProto or a path, got {type(proto).__name__}")
    _check_names_are_text(proto, source)
    input_shapes = dict(input_shapes or {})
    if isinstance(inputs, str) or isinstance(outputs, str):
        raise FormatError("inputs and outputs take lists of value names, not one string")
    if inputs or outputs:
        proto, input_shapes = _cut(proto, inputs or [], outputs, input_shapes, constants, source, arrays)
        constants = {k: v for k, v in (constants or {}).items() if k in {vi.name for vi in proto.graph.input}}
    bound = {k: np.asarray(v) for k, v in (constants or {}).items()}
    graph = proto.graph
    opset = _default_opset(proto)
    table = onnx_op_table()
    nodes = list(graph.node)
    names = _node_names(nodes)

    values: dict[str, np.ndarray] = dict(arrays or {})  # initializers read already (load_onnx streams them)
    for init in graph.initializer:
        if init.name in values:
            continue
        try:
            values[init.name] = onnx.numpy_helper.to_array(init)
        except Exception as exc:  # onnx raises plain Exceptions for unreadable external data
            raise FormatError(f"{source}: cannot read initializer {init.name!r}: {exc}") from exc
    if len(graph.sparse_initializer):
        raise UnsupportedError(f"{source}: sparse initializers are not supported; store them dense")
    for node, name in zip(nodes, names, strict=True):
        if node.op_type == "Constant":
            for out in node.output:
                values[out] = _constant_node_value(node, name)
    unknown_bound = sorted(set(bound) - {vi.name for vi in graph.input})
    if unknown_bound:
        raise FormatError(
            f"{source}: constants given for {', '.join(map(repr, unknown_bound))}, which are not graph inputs "
            f"(graph inputs: {', '.join(vi.name for vi in graph.input)})"
        )
    values.update(bound)
    unknown_shapes = sorted(set(input_shapes) - {vi.name for vi in graph.input})
    if unknown_shapes:
        raise FormatError(
            f"{source}: input shapes given for {', '.join(map(repr, unknown_shapes))}, which are not graph inputs "
            f"(graph inputs: {', '.join(vi.name for vi in graph.input)})"
        )

    nodes, names = _resolve_identities(graph, nodes, names, set(values))
    folded = _constant_nodes(nodes, set(values))
    # Op types no kind reads are reported now, all at once; nodes a kind declines, and nodes read only as part of
    # a multi-node form that did not fold, are reported after the fusions.
    _unsupported_report(nodes, names, table, folded)

    layers: list[Layer] = []
    types: dict[str, TensorType] = {}
    for vi in graph.input:
        if vi.name in values:  # an initializer listed as input (IR < 4 style) or a bound constant
            continue
        t = _tensor_type(vi, input_shapes)
        layers.append(onnx_graph_input(vi.name, t))
        types[vi.name] = t

    # Constant arithmetic that needs no value's shape is evaluated up front; the rest waits for the shapes.
    evaluated: set[int] = set()
    for index in sorted(folded):
        node = nodes[index]
        if node.op_type != "Shape" and all(v in values for v in node.input if v):
            values.update(_fold(node, names[index], values, types, opset))
            evaluated.add(index)

    taken = NameAllocator()
    taken.reserve(layer.name for layer in layers)
    missing: list[int] = []  # nodes no kind reads in the form they have
    unavailable: set[str] = set()  # values computed by missing nodes (or from them)
    origin: dict[str, int] = {}  # layer name -> the node it was read from

    def view_of(index: int, layer_name: str) -> OnnxNode:
        node = nodes[index]
        return OnnxNode(
            op_type=node.op_type,
            name=layer_name,
            opset=opset,
            attributes={a.name: attribute_value(a) for a in node.attribute},
            input_names=tuple(node.input),
            output_names=tuple(node.output),
            _constants=values,
            _types=types,
            doc_string=node.doc_string,
        )

    for index, (node, name) in enumerate(zip(nodes, names, strict=True)):
        if node.op_type == "Constant":
            continue
        if node.op_type == "Identity":  # only constants reach here
            values[node.output[0]] = values[node.input[0]]
            continue
        if index in folded:
            if index not in evaluated:
                values.update(_fold(node, name, values, types, opset))
            continue
        if any(v in unavailable for v in node.input if v):
            unavailable.update(node.output)
            continue
        layer_name = taken.fresh(name)
        view = view_of(index, layer_name)
        try:
            built = _read(table[node.op_type], view)
            if built is None:
                missing.append(index)
                unavailable.update(node.output)
                continue
            out_types = built.infer([types[v] for v in built.inputs])
        except ConvertkitError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
            raise view.error(f"cannot convert: {exc}", FormatError) from exc
        taken.reserve([built.name])
        origin[built.name] = index
        for value, t in zip(built.outputs, out_types, strict=True):
            types[value] = t
        layers.append(built)

    # convertkit's own multi-node forms (and the same constructs from other exporters) fold back into one layer;
    # what a kind reads only inside such a form and that did not fold is an unsupported op after all.
    layers = fuse(layers, types, [vi.name for vi in graph.output if vi.name in types])
    for layer in layers:
        if layer.name in origin and not kind_of(layer).onnx.read_alone and origin[layer.name] not in missing:
            missing.append(origin[layer.name])
    if missing:
        _unsupported_report(nodes, names, table, set(range(len(nodes))), set(missing))
    outputs = []
    for vi in graph.output:
        if vi.name in values and vi.name not in types:
            raise UnsupportedError(
                f"{source}: graph output {vi.name!r} is a constant; convertkit models compute their outputs"
            )
        if vi.name not in types:
            raise FormatError(f"{source}: graph output {vi.name!r} is produced by no node")
        outputs.append(vi.name)
    _compare_declared_shapes(graph, types, source)
    return Model(layers, outputs, name=graph.name or "convertkit", meta={"onnx_opset": opset})


def _read(readers: list[LayerKind[Layer]], node: OnnxNode) -> Layer | None:
    """The layer the first kind that reads ``node`` makes of it (None: every kind declined)."""
    for kind in readers:
        assert kind.onnx.read is not None  # the registry pairs op_types with read
        layer = kind.onnx.read(node)
        if layer is not None:
            return layer
    return None


def _compare_declared_shapes(graph: Any, types: Mapping[str, TensorType], source: str) -> None:
    """Warn where the file declares a static shape that differs from the one convertkit computes.

    Exporters write what onnx shape inference says; where it and onnxruntime disagree (auto_pad SAME with
    output_padding, float32 Resize sizes) the declared shape is the wrong one, and the user should know.
    """
    for vi in list(graph.output) + list(graph.value_info):
        t = types.get(vi.name)
        if t is None or not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
            continue
        dims = vi.type.tensor_type.shape.dim
        if not dims or not all(d.HasField("dim_value") for d in dims):
            continue
        declared = tuple(int(d.dim_value) for d in dims)
        if declared != t.shape:
            warnings.warn(
                OnnxImportWarning(
                    f"{source}: value {vi.name!r} is declared {list(declared)} in the file, but computes to "
                    f"{list(t.shape)} (as onnxruntime runs it); the declaration is stale or came from onnx shape "
                    "inference where it disagrees with onnxruntime"
                ),
                stacklevel=3,
            )


def load_onnx(
    path: str,
    *,
    input_shapes: Mapping[str, tuple[int, ...]] | None = None,
    constants: Mapping[str, np.ndarray] | None = None,
    inputs: Sequence[str] | Mapping[str, Sequence[int] | None] | None = None,
    outputs: Sequence[str] | None = None,
) -> Model:
    """Read the ONNX file ``path`` and convert it (see :func:`from_onnx`)."""
    from .onnx import read_onnx_streamed

    if not os.path.exists(path):
        raise FormatError(f"cannot read ONNX model {path!r}: no such file")
    proto, arrays = read_onnx_streamed(path)  # weights straight into arrays, external data included
    return from_onnx(
        proto,
        input_shapes=input_shapes,
        constants=constants,
        source=repr(path),
        arrays=arrays,
        inputs=inputs,
        outputs=outputs,
    )
