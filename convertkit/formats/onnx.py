"""ONNX export: graph plumbing only — each layer kind's ONNX facet emits its nodes through :class:`OnnxEmitter`.

Every emitted model carries explicit pads (never ``auto_pad`` or ``output_shape``), weights as initializers,
every intermediate value's type in ``value_info``, and passes ``onnx.checker`` with ``full_check``.
"""

from __future__ import annotations

from typing import Any

from .. import layers as _layers  # noqa: F401  (registers the layer kinds)
from ..codec.files import write_atomically
from ..codec.onnx import ELEMENT_TYPES, OnnxEmitter
from ..errors import FormatError, UnsupportedError
from ..ir import Model, TensorType
from ..passes import ExportOptions, lower
from ..registry import write_layers

__all__ = ["DEFAULT_OPSET", "MIN_OPSET", "MAX_OPSET", "OnnxEmitter", "to_onnx", "save_onnx", "load_onnx_model"]

#: Opset used when none is asked for.
DEFAULT_OPSET = 19
#: Supported range, both ends tested: 13 is the first with Resize's current inputs and Pad's tensor pads;
#: 22 is the newest opset onnxruntime 1.2x runs every op we emit at.
MIN_OPSET = 13
MAX_OPSET = 22


def _value_info(name: str, t: TensorType) -> Any:
    import onnx

    return onnx.helper.make_tensor_value_info(name, ELEMENT_TYPES[t.dtype], list(t.shape))


def to_onnx(model: Model, opset: int | None = None, *, check: bool = True) -> Any:
    """Export ``model`` as an ``onnx.ModelProto`` at ``opset`` (default :data:`DEFAULT_OPSET`).

    The result passes ``onnx.checker.check_model(full_check=True)`` and onnx shape inference agrees with
    ``model.types`` on every value (checked unless ``check=False``).
    """
    import onnx

    opset = DEFAULT_OPSET if opset is None else opset
    if not isinstance(model, Model):
        raise FormatError(f"to_onnx exports a convertkit Model, got {type(model).__name__}")
    if isinstance(opset, bool) or not isinstance(opset, int):
        raise UnsupportedError(f"ONNX opset must be an integer, got {opset!r}")
    if not (MIN_OPSET <= opset <= MAX_OPSET):
        raise UnsupportedError(f"ONNX opset {opset} is outside the supported range {MIN_OPSET}..{MAX_OPSET}")
    model = lower(model, ExportOptions(target="onnx"))
    ctx = OnnxEmitter(opset)
    ctx.reserve(list(model.types))
    write_layers(model, ctx)
    value_info = [_value_info(v, t) for v, t in model.types.items() if v not in model.outputs and v not in model.inputs]
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
        _check(proto, model)
    return proto


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


def save_onnx(model: Model, path: str, opset: int | None = None) -> None:
    """Export and write ``model`` to ``path``."""
    proto = to_onnx(model, opset)
    write_atomically({path: proto.SerializeToString()})


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
