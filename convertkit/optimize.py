"""``convertkit optimize``: anyone's ONNX model with its upsample-like nodes in their fastest exact form.

Operates on the ONNX graph, never round-tripping the model through the IR: every ConvTranspose, Resize and
Upsample node is read alone (a one-node model of it, its weights and its input's static type) into a convertkit
layer — which resolves ``auto_pad`` / ``output_shape`` into explicit pads exactly — exported again with
``optimize="speed"`` (:mod:`convertkit.passes.fast_upsample`) and spliced back in its place under fresh names.
Every other node, initializer and attribute passes through untouched; a node convertkit cannot read stays as it
is, with the reason in the notes.  :func:`verify` runs the original and the result in onnxruntime on seeded
inputs and times both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ConvertkitError, FormatError

__all__ = ["OPTIMIZED_OPS", "OptimizeResult", "optimize_onnx", "verify", "Verification"]

#: The op types rewritten; every other node is copied as it is.
OPTIMIZED_OPS: tuple[str, ...] = ("ConvTranspose", "Resize", "Upsample")
#: The result must equal the original this closely (relative to each output's largest magnitude, at least 1).
RTOL = 1e-6


@dataclass
class OptimizeResult:
    """The rewritten model, and one note per node looked at (what became of it)."""

    proto: Any
    rewritten: int = 0
    notes: list[str] = field(default_factory=list)


def _static_types(proto: Any, input_shapes: Mapping[str, tuple[int, ...]]) -> dict[str, tuple[int, tuple[int, ...]]]:
    """``value -> (element type, static shape)`` from onnx shape inference (with ``input_shapes`` substituted)."""
    import onnx

    work = onnx.ModelProto()
    work.CopyFrom(proto)
    for vi in work.graph.input:
        if vi.name in input_shapes:
            dims = vi.type.tensor_type.shape.dim
            del dims[:]
            for d in input_shapes[vi.name]:
                dims.add().dim_value = int(d)
    try:
        inferred = onnx.shape_inference.infer_shapes(work, data_prop=True)
    except Exception:  # noqa: BLE001  (an exporter's model shape inference cannot finish: use what it declares)
        inferred = work
    out: dict[str, tuple[int, tuple[int, ...]]] = {}
    g = inferred.graph
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        t = vi.type.tensor_type
        if not t.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        if all(d is not None and d > 0 for d in dims):
            out[vi.name] = (t.elem_type, tuple(int(d) for d in dims))  # type: ignore[arg-type]
    return out


def _opset(proto: Any) -> int:
    for imp in proto.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return 1


def optimize_onnx(proto: Any, *, input_shapes: Mapping[str, tuple[int, ...]] | None = None) -> OptimizeResult:
    """``proto`` with each ConvTranspose / Resize / Upsample node in its fastest exact form (explicit pads)."""
    import onnx

    from .formats.onnx import MAX_OPSET, MIN_OPSET, to_onnx
    from .formats.onnx_import import from_onnx

    if not isinstance(proto, onnx.ModelProto):
        raise FormatError(f"optimize takes an onnx.ModelProto, got {type(proto).__name__}")
    opset = _opset(proto)
    result = OptimizeResult(proto=onnx.ModelProto())
    result.proto.CopyFrom(proto)
    graph = result.proto.graph
    if not any(n.op_type in OPTIMIZED_OPS for n in graph.node):
        return result
    if opset < MIN_OPSET:
        result.notes.append(
            f"opset {opset}: convertkit writes opset {MIN_OPSET}..{MAX_OPSET}, so no node was rewritten "
            "(onnx.version_converter can raise the model's opset first)"
        )
        return result
    emit_opset = min(opset, MAX_OPSET)
    types = _static_types(proto, dict(input_shapes or {}))
    initializers = {init.name: init for init in graph.initializer}
    constant_nodes: dict[str, Any] = {}  # value -> the Constant / Identity-of-a-constant node computing it
    for n in graph.node:
        if n.op_type == "Constant" or (
            n.op_type == "Identity" and (n.input[0] in initializers or n.input[0] in constant_nodes)
        ):
            constant_nodes[n.output[0]] = n
    taken = {v for n in graph.node for v in list(n.input) + list(n.output)} | set(initializers)
    taken |= {vi.name for vi in list(graph.input) + list(graph.output)} | {n.name for n in graph.node}
    counter = [0]

    def fresh(base: str) -> str:
        while True:
            counter[0] += 1
            name = f"{base}__ck{counter[0]}"
            if name not in taken:
                taken.add(name)
                return name

    new_nodes: list[Any] = []
    new_inits: list[Any] = []
    for index, node in enumerate(graph.node):
        if node.op_type not in OPTIMIZED_OPS or node.domain not in ("", "ai.onnx"):
            new_nodes.append(node)
            continue
        label = f"node {node.name or index!r} ({node.op_type})"
        replaced = _rewrite(node, types, initializers, constant_nodes, emit_opset, from_onnx, to_onnx)
        if isinstance(replaced, str):
            result.notes.append(f"{label}: left as is: {replaced}")
            new_nodes.append(node)
            continue
        sub, warned = replaced
        boundary = set(node.input) | set(node.output)
        renames: dict[str, str] = {}
        for init in sub.graph.initializer:
            renames[init.name] = fresh(f"{node.name or node.op_type}.{init.name}")
        for sub_node in sub.graph.node:
            for v in sub_node.output:
                if v not in boundary:
                    renames[v] = fresh(v)
        for init in sub.graph.initializer:
            init.name = renames[init.name]
            new_inits.append(init)
        for sub_node in sub.graph.node:
            sub_node.name = fresh(sub_node.name or node.name or node.op_type)
            for i, v in enumerate(sub_node.input):
                sub_node.input[i] = renames.get(v, v)
            for i, v in enumerate(sub_node.output):
                sub_node.output[i] = renames.get(v, v)
            new_nodes.append(sub_node)
        ops = " -> ".join(n.op_type for n in sub.graph.node)
        result.notes.append(f"{label}: {ops}" + "".join(f" (note: {w})" for w in warned))
        result.rewritten += 1
    del graph.node[:]
    graph.node.extend(new_nodes)
    graph.initializer.extend(new_inits)
    # Weights no node reads any more (the rewritten nodes' kernels) are dropped; graph inputs stay.
    used = {v for n in graph.node for v in n.input} | {vi.name for vi in graph.output}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    graph_inputs = [vi for vi in graph.input if vi.name in used or vi.name not in initializers]
    del graph.input[:]
    graph.input.extend(graph_inputs)
    return result


def _rewrite(
    node: Any,
    types: Mapping[str, tuple[int, tuple[int, ...]]],
    initializers: Mapping[str, Any],
    constant_nodes: Mapping[str, Any],
    opset: int,
    from_onnx: Any,
    to_onnx: Any,
) -> Any:
    """The exported one-node model's replacement, or the reason (str) the node stays."""
    import onnx

    data = node.input[0] if node.input else ""
    if data not in types:
        return f"input {data!r} has no static shape (give --input-shape)"
    elem, shape = types[data]
    if elem != onnx.TensorProto.FLOAT:
        return "convertkit rewrites float32 nodes only"
    inits: list[Any] = []
    consts: list[Any] = []
    pending = [v for v in node.input[1:] if v]
    while pending:
        v = pending.pop()
        if v in initializers:
            if all(i.name != v for i in inits):
                inits.append(initializers[v])
        elif v in constant_nodes:
            producer = constant_nodes[v]
            if producer not in consts:
                consts.insert(0, producer)
                pending.extend(i for i in producer.input if i)
        else:
            return f"input {v!r} is computed at run time (a constant is needed)"
    outputs = [onnx.helper.make_tensor_value_info(v, elem, None) for v in node.output if v]
    tiny = onnx.helper.make_graph(
        [*consts, node], "node", [onnx.helper.make_tensor_value_info(data, elem, list(shape))], outputs, inits
    )
    tiny_model = onnx.helper.make_model(tiny, opset_imports=[onnx.helper.make_opsetid("", opset)])
    import warnings

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = from_onnx(tiny_model, source=f"node {node.name!r}")
            sub = to_onnx(model, opset, optimize="speed", target="onnxruntime")  # measured there; checked there
    except ConvertkitError as exc:
        return str(exc)
    return sub, [str(w.message) for w in caught]


@dataclass
class Verification:
    """The original and the optimized model on the same seeded inputs: equality and medians (seconds)."""

    equal: bool
    max_relative: float
    original_s: float
    optimized_s: float

    @property
    def speedup(self) -> float:
        return self.original_s / self.optimized_s if self.optimized_s else float("inf")

    def format(self) -> str:
        verdict = "equal" if self.equal else "DIFFER"
        return (
            f"onnxruntime, seeded inputs: {verdict} (max relative difference {self.max_relative:.2e}, bound "
            f"{RTOL:g}); median run {self.original_s * 1e3:.2f} ms -> {self.optimized_s * 1e3:.2f} ms, "
            f"{self.speedup:.2f}x"
        )


def verify(
    original: Any,
    optimized: Any,
    *,
    input_shapes: Mapping[str, tuple[int, ...]] | None = None,
    seed: int = 0,
    repeats: int = 5,
) -> Verification:
    """Run both models in onnxruntime on seeded standard-normal inputs; compare every output; time them
    interleaved (medians of ``repeats`` runs after one warm-up)."""
    import statistics
    import time

    import onnx
    import onnxruntime as ort

    init_names = {i.name for i in original.graph.initializer}
    given = dict(input_shapes or {})
    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    for vi in original.graph.input:
        if vi.name in init_names:
            continue
        t = vi.type.tensor_type
        dims = given.get(vi.name) or tuple(d.dim_value for d in t.shape.dim)
        if any(not d or d < 1 for d in dims):
            raise FormatError(f"graph input {vi.name!r} has no static shape; give --input-shape {vi.name}=N,C,H,W")
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
        feeds[vi.name] = rng.standard_normal(dims).astype(dtype)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3  # exporters' initializers listed as inputs: not ours to warn about
    sessions = [
        ort.InferenceSession(p.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        for p in (original, optimized)
    ]
    outs = [s.run(None, feeds) for s in sessions]
    worst = 0.0
    for a, b in zip(outs[0], outs[1], strict=True):
        a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if a64.shape != b64.shape:
            return Verification(False, float("inf"), 0.0, 0.0)
        err = float(np.max(np.abs(a64 - b64), initial=0.0)) / max(1.0, float(np.max(np.abs(a64), initial=0.0)))
        worst = max(worst, err)
    times: list[list[float]] = [[], []]
    for _ in range(repeats):
        for k, s in enumerate(sessions):
            t0 = time.perf_counter()
            s.run(None, feeds)
            times[k].append(time.perf_counter() - t0)
    return Verification(worst <= RTOL, worst, statistics.median(times[0]), statistics.median(times[1]))
