"""What the scalar-arithmetic kinds (Power, Exp, Log) share: float32 fields, and their ONNX chains of one-element
constants (``Mul`` / ``Add`` / ``Pow`` by a scalar initializer of the input's dtype)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ValidationError

if TYPE_CHECKING:  # the ONNX helpers below serve the facets; the cores import only float32_field
    from ..codec.onnx import OnnxEmitter, OnnxNode

__all__ = ["float32_field", "write_chain", "scalar_operand", "write_base_scale_shift", "read_base_scale_shift"]

#: Caffe's defaults of ``exp_param`` / ``log_param`` (base -1 means e).
BASE_SCALE_SHIFT_DEFAULTS = (("base", -1.0), ("scale", 1.0), ("shift", 0.0))


def write_base_scale_shift(layer: Any, param: Any) -> None:
    """Fill an ``exp_param`` / ``log_param`` message from ``layer``: each field only when not Caffe's default."""
    for name, default in BASE_SCALE_SHIFT_DEFAULTS:
        if getattr(layer, name) != default:
            setattr(param, name, getattr(layer, name))


def read_base_scale_shift(cls: Any, source: Any, param: Any) -> list[Any]:
    """The one-input layer ``cls`` (Exp or Log) from a Caffe layer and its ``exp_param`` / ``log_param``."""
    source.expect_one_in_one_out()
    values = {name: getattr(param, name) for name, _ in BASE_SCALE_SHIFT_DEFAULTS}
    return [cls(name=source.name, input=source.inputs[0], output=source.outputs[0], **values)]


def float32_field(layer: Any, name: str, value: Any) -> float:
    """``value`` checked finite and rounded to float32 (the type Caffe's parameter messages store)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise layer.error(f"{name} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise layer.error(f"{name} must be finite, got {value!r}")
    return float(np.float32(value))


def write_chain(ctx: OnnxEmitter, name: str, x: str, out: str, dtype: Any, steps: list[tuple[str, Any]]) -> None:
    """Append ``steps`` (``(op, scalar)`` — or ``(op, None)`` for a one-input op) from ``x`` to ``out``.

    Scalars are rank-0 initializers ``NAME.OP`` of ``dtype``; intermediate values are fresh ``NAME.OP`` names.
    """
    cur = x
    for k, (op, value) in enumerate(steps):
        nxt = out if k == len(steps) - 1 else ctx.fresh(f"{name}.{op.lower()}")
        inputs = [cur]
        if value is not None:
            inputs.append(ctx.add_initializer(f"{name}.{op.lower()}", np.array(value, dtype=dtype)))
        ctx.add_node(op, inputs, [nxt], name=name)
        cur = nxt


def scalar_operand(node: OnnxNode) -> tuple[int, float] | None:
    """``(index of the run-time input, the scalar)`` of a two-input node whose other input is a one-element
    constant; None for any other form (two run-time tensors, a constant with more than one element: other kinds'
    forms).  Refused: a scalar that float32 (Caffe's parameter type) does not hold exactly."""
    if len(node.input_names) != 2 or not (node.has_input(0) and node.has_input(1)):
        return None
    consts = [k for k in (0, 1) if node.is_constant(k)]
    if len(consts) != 1:
        return None
    c = np.asarray(node.constant(consts[0], "the scalar"))
    runtime = 1 - consts[0]
    x = node.input_type(runtime)
    if c.size != 1 or c.ndim > len(x.shape):
        return None
    if node.op_type == "Pow" and c.dtype.kind not in "fi":
        return None
    if node.op_type != "Pow" and c.dtype != np.dtype(x.dtype):
        return None  # ONNX needs one type; onnx checks refuse it anyway
    value = float(c.reshape(()).item())
    if not math.isfinite(value) or float(np.float32(value)) != value:
        raise node.error(
            f"the constant {value!r} is not a finite float32 value; convertkit's Power / Exp / Log store "
            "Caffe's float32 parameters, so this would round it — keep the model float32",
            ValidationError,
        )
    return runtime, float(value)
