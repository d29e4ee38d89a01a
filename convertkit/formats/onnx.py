"""ONNX export: graph plumbing only — each layer kind's ONNX facet emits its nodes through :class:`OnnxEmitter`.

Every emitted model carries explicit pads (never ``auto_pad`` or ``output_shape``), weights as initializers,
every intermediate value's type in ``value_info``, and passes ``onnx.checker`` with ``full_check``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from .. import layers as _layers  # noqa: F401  (registers the layer kinds)
from .. import progress as _progress
from ..budget import require
from ..codec.files import write_atomically
from ..codec.onnx import BIG_TENSOR_BYTES, ELEMENT_TYPES, OnnxEmitter
from ..codec.wire import len_field_header
from ..errors import FormatError, UnsupportedError
from ..ir import Model, TensorType
from ..passes import ExportOptions, lower
from ..registry import write_layers

__all__ = [
    "DEFAULT_OPSET",
    "MIN_OPSET",
    "MAX_OPSET",
    "EXTERNAL_DATA_THRESHOLD",
    "OnnxEmitter",
    "to_onnx",
    "save_onnx",
    "external_data_path",
    "load_onnx_model",
    "read_onnx_streamed",
]

#: Export form when none is asked for by the API: the literal one (the CLI asks for "speed").
DEFAULT_OPTIMIZE = "none"
#: Opset used when none is asked for.
DEFAULT_OPSET = 19
#: Supported range, both ends tested: 13 is the first with Resize's current inputs and Pad's tensor pads;
#: 22 is the newest opset onnxruntime 1.2x runs every op we emit at.
MIN_OPSET = 13
MAX_OPSET = 22


#: A protobuf bytes field (an initializer's raw_data) holds less than 2 GiB.
_PROTOBUF_FIELD_LIMIT = 2**31 - 1


def _refuse_huge_tensors(model: Model) -> None:
    from ..budget import format_bytes

    for layer in model.layers:
        types = model.input_types(layer)
        itemsize = 8 if types and types[0].dtype == "float64" else 4
        for shape in layer.parameter_shapes(types):
            size = itemsize
            for d in shape:
                size *= d
            if size > _PROTOBUF_FIELD_LIMIT:
                raise layer.error(
                    f"one parameter array of shape {list(shape)} is {format_bytes(size)}, more than the 2 GiB one "
                    "tensor can hold inside an in-memory ONNX ModelProto; save the model to a file instead "
                    "(convertkit.save writes such weights as external data)",
                    UnsupportedError,
                )


def _value_info(name: str, t: TensorType, element_type: int | None = None) -> Any:
    import onnx

    elem = ELEMENT_TYPES[t.dtype] if element_type is None else element_type
    return onnx.helper.make_tensor_value_info(name, elem, list(t.shape))


def to_onnx(
    model: Model,
    opset: int | None = None,
    *,
    check: bool = True,
    target: str = "portable",
    optimize: str = DEFAULT_OPTIMIZE,
) -> Any:
    """Export ``model`` as an ``onnx.ModelProto`` at ``opset`` (default :data:`DEFAULT_OPSET`) for ``target``
    (:data:`convertkit.portability.RUNTIME_TARGETS`: ``portable`` runs everywhere; a runtime may get a form only
    it runs); ``optimize="speed"`` emits upsample-like layers in their fastest exact form where the target runs it
    (:mod:`convertkit.passes.fast_upsample`).

    ``optimize="speed"`` writes each upsample-like layer in its fastest exactly equal form
    (:mod:`convertkit.passes.fast_upsample`); ``"none"`` the literal one.

    The result passes ``onnx.checker.check_model(full_check=True)`` and onnx shape inference agrees with
    ``model.types`` on every value (checked unless ``check=False``).
    """
    if isinstance(model, Model):
        require(model, "export")  # the budget first: it names the amount; then what a ModelProto cannot hold
        _refuse_huge_tensors(model)
    proto, big = _export(model, opset, check=check, target=target, optimize=optimize)
    for init in proto.graph.initializer:
        if init.name in big:
            init.raw_data = big[init.name].astype(big[init.name].dtype.newbyteorder("<"), copy=False).tobytes()
    return proto


def _export(
    model: Model,
    opset: int | None,
    *,
    check: bool = True,
    target: str = "portable",
    optimize: str = DEFAULT_OPTIMIZE,
) -> tuple[Any, dict[str, Any]]:
    """The ONNX model with its big initializers (``OnnxEmitter.big``) as data-less tensors, and their arrays."""
    from ..portability import check_target, needs_form

    check_target(target)
    source = model.meta.get("onnx_opset") if isinstance(model, Model) else None
    if opset is None and isinstance(source, int):
        opset = min(max(source, MIN_OPSET), MAX_OPSET)  # ONNX -> ONNX keeps the source's opset where supported
    if opset is None and needs_form(target, "low_opset") and isinstance(model, Model):
        for low in range(MIN_OPSET, DEFAULT_OPSET):
            try:
                return _export(model, low, check=check, target=target, optimize=optimize)
            except UnsupportedError:
                continue  # a layer needs a newer opset
    return _export_at(model, opset, check=check, target=target, optimize=optimize)


def _export_at(
    model: Model, opset: int | None, *, check: bool, target: str, optimize: str = DEFAULT_OPTIMIZE
) -> tuple[Any, dict[str, Any]]:
    import onnx

    opset = DEFAULT_OPSET if opset is None else opset
    if not isinstance(model, Model):
        raise FormatError(f"to_onnx exports a convertkit Model, got {type(model).__name__}")
    if isinstance(opset, bool) or not isinstance(opset, int):
        raise UnsupportedError(f"ONNX opset must be an integer, got {opset!r}")
    if not (MIN_OPSET <= opset <= MAX_OPSET):
        raise UnsupportedError(f"ONNX opset {opset} is outside the supported range {MIN_OPSET}..{MAX_OPSET}")
    from ..passes.fast_upsample import OPTIMIZE_CHOICES

    if optimize not in OPTIMIZE_CHOICES:
        raise UnsupportedError(f"optimize must be one of {', '.join(OPTIMIZE_CHOICES)}, got {optimize!r}")
    if optimize != "none":
        require(model, "export")  # the literal form's budget: a faster form does not lift a refusal
    model = lower(model, ExportOptions(target="onnx", runtime=target, optimize=optimize))
    require(model, "export")
    ctx = OnnxEmitter(opset)
    ctx.reserve(list(model.types))
    write_layers(model, ctx)
    value_info = [
        _value_info(v, t, ctx.element_types.get(v))
        for v, t in model.types.items()
        if v not in model.outputs and v not in model.inputs
    ]
    graph = onnx.helper.make_graph(
        ctx.nodes,
        model.name,
        ctx.inputs,
        [_value_info(v, model.types[v]) for v in model.outputs],
        ctx.initializers,
        value_info=value_info,
    )
    proto = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", opset)], producer_name="convertkit"
    )
    # The oldest IR version that can carry this opset: newest runtimes read it, older ones too.
    proto.ir_version = onnx.helper.find_min_ir_version_for(list(proto.opset_import))
    if check:
        _check(_light(proto, ctx.big), model)
    return proto, ctx.big


def _light(proto: Any, big: dict[str, Any]) -> Any:
    """``proto`` with each data-less initializer turned into a graph input of its type: what the checker and
    shape inference see is the same graph, without the weights' bytes (small constants stay: shape inference
    reads Resize scales, Pad pads, Slice starts)."""
    import onnx

    if not big:
        return proto
    light = onnx.ModelProto()
    light.CopyFrom(proto)
    kept = [init for init in light.graph.initializer if init.name not in big]
    moved = [init for init in light.graph.initializer if init.name in big]
    del light.graph.initializer[:]
    light.graph.initializer.extend(kept)
    light.graph.input.extend(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in moved)
    return light


def _check(proto: Any, model: Model) -> None:
    import onnx

    try:
        onnx.checker.check_model(proto, full_check=True)
        inferred = onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    except onnx.checker.ValidationError as exc:
        raise FormatError(f"emitted ONNX model fails onnx.checker: {exc}") from exc
    except onnx.shape_inference.InferenceError as exc:
        raise FormatError(f"emitted ONNX model fails onnx shape inference: {exc}") from exc
    seen = {vi.name: vi for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for value, t in model.types.items():
        vi = seen.get(value)
        if vi is None:
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in vi.type.tensor_type.shape.dim]
        if dims != list(t.shape):
            raise FormatError(
                f"onnx shape inference gives {dims} for value {value!r}, convertkit's shape rule {list(t.shape)}"
            )


#: Above this many weight bytes an ONNX model is written with external data (protobuf cannot serialise or
#: parse a message of 2 GiB or more; the margin leaves room for the graph itself).
EXTERNAL_DATA_THRESHOLD = 2**31 - 2**27


def external_data_path(path: str) -> str:
    """Where :func:`save_onnx` puts the weights of ``path`` when they go to external data: ``NAME.onnx.data``."""
    return path + ".data"


def save_onnx(
    model: Model,
    path: str,
    opset: int | None = None,
    *,
    external_data: bool | None = None,
    threshold: int = EXTERNAL_DATA_THRESHOLD,
    progress: Callable[[int], None] | None = None,
    target: str = "portable",
    optimize: str = DEFAULT_OPTIMIZE,
) -> bool:
    """Export and write ``model`` to ``path``; returns whether the weights went to external data.

    The weights are streamed from their arrays, never copied into the ``ModelProto``.  With
    ``external_data=None`` they go to ``NAME.onnx.data`` beside ``path`` only when they total more than
    ``threshold`` bytes (ONNX's 2 GB limit); ``True`` / ``False`` force either form.  Both files are written
    atomically.  ``progress`` is called with each tensor's byte count once written.
    """
    proto, big = _export(model, opset, target=target, optimize=optimize)
    total = sum(a.nbytes for a in big.values())
    if progress is None:
        with _progress.bar(total, f"writing {os.path.basename(path)}") as update:
            return save_onnx_proto(proto, big, path, external_data=external_data, threshold=threshold, progress=update)
    return save_onnx_proto(proto, big, path, external_data=external_data, threshold=threshold, progress=progress)


def save_onnx_proto(
    proto: Any,
    big: dict[str, Any],
    path: str,
    *,
    external_data: bool | None,
    threshold: int,
    progress: Callable[[int], None] | None,
) -> bool:
    """Write ``proto`` whose initializers named in ``big`` are data-less, streaming their values (:func:`save_onnx`)."""
    total = sum(a.nbytes for a in big.values())
    external = total > threshold if external_data is None else bool(external_data)
    if external:
        data_path = external_data_path(path)
        location = os.path.basename(data_path)
        offset = 0
        for init in proto.graph.initializer:
            if init.name in big:
                n = big[init.name].nbytes
                init.data_location = onnx_external_location()
                for key, value in (("location", location), ("offset", str(offset)), ("length", str(n))):
                    entry = init.external_data.add()
                    entry.key, entry.value = key, value
                offset += n
        order = [init.name for init in proto.graph.initializer if init.name in big]

        def write_data(f: BinaryIO) -> None:
            for name in order:
                _write_array(f, big[name])
                if progress is not None:
                    progress(big[name].nbytes)

        write_atomically({path: proto.SerializeToString(), data_path: write_data})
    else:
        if total > EXTERNAL_DATA_THRESHOLD:
            raise UnsupportedError(
                f"{path}: {total} bytes of weights cannot go into one ONNX file (protobuf's 2 GB limit); "
                "write them as external data (--external-data)"
            )
        write_atomically({path: lambda f: _write_inline(f, proto, big, progress)})
    return external


def onnx_external_location() -> int:
    import onnx

    return onnx.TensorProto.EXTERNAL


def _write_array(f: BinaryIO, array: Any) -> None:
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    f.write(np.ascontiguousarray(little).data.cast("B"))


def _write_inline(f: BinaryIO, proto: Any, big: dict[str, Any], progress: Callable[[int], None] | None) -> None:
    """``proto`` serialised with each data-less initializer's ``raw_data`` (field 9) streamed from its array.

    Protobuf reads fields in any order and merges a message's repeated fields, so the model is written as: its
    fields but the graph, then the graph (ModelProto field 7) as its fields but the initializers, then each
    initializer (GraphProto field 5), a big one as its other fields followed by its raw data.
    """
    import onnx

    rest = onnx.ModelProto()
    rest.CopyFrom(proto)
    rest.ClearField("graph")
    graph = onnx.GraphProto()
    graph.CopyFrom(proto.graph)
    del graph.initializer[:]
    parts: list[tuple[bytes, Any]] = []  # (initializer field bytes before its data, array or None)
    for init in proto.graph.initializer:
        head = init.SerializeToString()
        if init.name in big:
            n = big[init.name].nbytes
            head += len_field_header(9, n)
            parts.append((len_field_header(5, len(head) + n) + head, big[init.name]))
        else:
            parts.append((len_field_header(5, len(head)) + head, None))
    graph_bytes = graph.SerializeToString()
    graph_len = len(graph_bytes) + sum(len(h) + (a.nbytes if a is not None else 0) for h, a in parts)
    f.write(rest.SerializeToString())
    f.write(len_field_header(7, graph_len) + graph_bytes)
    for head, array in parts:
        f.write(head)
        if array is not None:
            _write_array(f, array)
            if progress is not None:
                progress(array.nbytes)


def load_onnx_model(path: str) -> Any:
    """Read an ONNX file as a ``ModelProto`` (no conversion to the IR)."""
    import onnx

    try:
        proto = onnx.load(path)
    except Exception as exc:  # onnx raises DecodeError and friends from protobuf
        raise FormatError(f"cannot read ONNX model {path!r}: {exc}") from exc
    # protobuf parses many non-ONNX byte strings (an empty file is a valid empty message): say what it is.
    if not proto.opset_import and not proto.graph.node and not proto.graph.input:
        raise FormatError(f"{path!r} is not an ONNX model (no graph and no opset import)")
    return proto


def read_onnx_streamed(path: str) -> tuple[Any, dict[str, np.ndarray]]:
    """An ONNX file as (``ModelProto`` whose big initializers carry no data, name -> array of each of those).

    Each initializer's ``raw_data`` goes from the file straight into its array (never a ``bytes`` copy plus a
    parsed copy plus the array); external data (``data_location: EXTERNAL``) is read from its file, which must
    lie inside the model's folder (a ``location`` that leaves it, or is absolute, is refused).
    """
    import onnx

    from ..codec.wire import LEN, WireReader

    try:
        f = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise FormatError(f"cannot read ONNX model {path!r}: {exc.strerror or exc}") from exc
    raw: dict[int, np.ndarray] = {}  # initializer index -> its raw_data bytes (uint8)
    with f:
        size = os.fstat(f.fileno()).st_size
        r = WireReader(f, path, size, kind="ONNX model")
        model_rest = bytearray()
        graph_rest = bytearray()
        inits: list[bytes] = []

        def read_tensor(_: int, wt: int, g: WireReader) -> None:
            if wt != LEN:
                raise FormatError(f"{path!r} is not an ONNX model: an initializer with wire type {wt}")
            t = g.sub(g.length())
            rest = bytearray()

            def read_raw(field: int, wt2: int) -> None:
                if wt2 != LEN:
                    raise FormatError(f"{path!r} is not an ONNX model: raw_data with wire type {wt2}")
                n = t.length()
                if n < BIG_TENSOR_BYTES:  # small constants stay in the message (shape inference reads them)
                    rest.extend(len_field_header(field, n) + t.read(n))
                else:
                    raw[len(inits)] = t.read_array(n, "u1")

            t.fields({9: read_raw}, rest)
            g.done(t)
            inits.append(bytes(rest))

        def read_graph(_: int, wt: int) -> None:
            if wt != LEN:
                raise FormatError(f"{path!r} is not an ONNX model: a graph with wire type {wt}")
            g = r.sub(r.length())
            g.fields({5: lambda field, wt2: read_tensor(field, wt2, g)}, graph_rest)
            r.done(g)

        with _progress.bar(size, f"reading {os.path.basename(path)}") as update:
            try:
                r.fields({7: read_graph}, model_rest)
            except FormatError as exc:
                detail = str(exc).split(": ", 1)[-1]
                raise FormatError(f"cannot read ONNX model {path!r}: not a protobuf message ({detail})") from exc
            if update is not None:
                update(size)
    graph_bytes = bytes(graph_rest) + b"".join(len_field_header(5, len(t)) + t for t in inits)
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(bytes(model_rest) + len_field_header(7, len(graph_bytes)) + graph_bytes)
    except Exception as exc:  # protobuf's DecodeError
        raise FormatError(f"cannot read ONNX model {path!r}: {exc}") from exc
    if not proto.opset_import and not proto.graph.node and not proto.graph.input:
        raise FormatError(f"{path!r} is not an ONNX model (no graph and no opset import)")
    folder = os.path.dirname(os.path.abspath(path))
    arrays: dict[str, np.ndarray] = {}
    for i, init in enumerate(proto.graph.initializer):
        if i in raw:
            buf = raw.pop(i)
        elif init.data_location == onnx.TensorProto.EXTERNAL:
            buf = _external_bytes(init, folder, path)
        else:
            continue
        try:
            dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(init.data_type)).newbyteorder("<")
        except Exception as exc:  # an unknown data_type
            raise FormatError(f"{path!r}: initializer {init.name!r} has data type {init.data_type}") from exc
        count = int(np.prod(list(init.dims), dtype=np.int64))
        if dtype.kind not in "fiub" or buf.size != count * dtype.itemsize:
            raise FormatError(
                f"{path!r}: initializer {init.name!r} has {buf.size} data bytes, dims {list(init.dims)} of "
                f"{dtype} need {count * dtype.itemsize}"
            )
        arrays[init.name] = buf.view(dtype).astype(dtype.newbyteorder("="), copy=False).reshape(list(init.dims))
        init.ClearField("raw_data")
        del init.external_data[:]
        init.ClearField("data_location")
    return proto, arrays


def _external_bytes(init: Any, folder: str, path: str) -> np.ndarray:
    """The bytes of ``init``'s external data, from a file inside ``folder`` (the model's own)."""
    info = {e.key: e.value for e in init.external_data}
    location = info.get("location", "")
    where = f"{path!r}: initializer {init.name!r}"
    target = os.path.realpath(os.path.join(folder, location))
    if (
        not location
        or os.path.isabs(location)
        or os.path.commonpath([target, os.path.realpath(folder)]) != (os.path.realpath(folder))
    ):
        raise FormatError(f"{where}: external data location {location!r} is not a file inside the model's folder")
    try:
        offset = int(info.get("offset", "0"))
        length = int(info["length"]) if "length" in info else -1
        with open(target, "rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            if offset < 0 or offset > end or length < -1 or (length >= 0 and offset + length > end):
                raise FormatError(f"{where}: external data offset {offset} length {length} lie outside {location!r}")
            f.seek(offset)
            return np.fromfile(f, dtype=np.uint8, count=length)
    except OSError as exc:
        raise FormatError(f"{where}: cannot read external data {location!r}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise FormatError(f"{where}: external data offset/length are not integers: {exc}") from exc
