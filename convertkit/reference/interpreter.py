"""Run a whole :class:`~convertkit.ir.Model` on the NumPy reference, layer by layer."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import ConvertkitError, ValidationError
from ..ir import Model

__all__ = ["run_model", "check_inputs"]


def check_inputs(model: Model, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Check that ``inputs`` feeds exactly the model's inputs with their declared shapes and element types.

    A real-valued array of another dtype is accepted only when converting it is exact (e.g. float64 data that
    holds float32 values, small integers); anything else is refused rather than silently rounded.
    """
    if not isinstance(inputs, Mapping):
        raise ValidationError(f"inputs must be a mapping of input name to array, got {type(inputs).__name__}")
    unknown = sorted(set(inputs) - set(model.inputs))
    if unknown:
        raise ValidationError(
            f"unknown input(s) {', '.join(map(repr, unknown))}; the model's inputs are {', '.join(model.inputs)}"
        )
    fed: dict[str, np.ndarray] = {}
    for name in model.inputs:
        if name not in inputs:
            raise ValidationError(f"input {name!r} is missing (declared {model.types[name]})")
        t = model.types[name]
        try:
            arr = np.asarray(inputs[name])
        except ValueError as exc:
            raise ValidationError(f"input {name!r} is not a rectangular array: {exc}") from exc
        if arr.dtype.kind not in "fiub":
            raise ValidationError(f"input {name!r} has dtype {arr.dtype}; the model declares {t.dtype}")
        if tuple(arr.shape) != t.shape:
            raise ValidationError(f"input {name!r} has shape {list(arr.shape)}, the model declares {list(t.shape)}")
        cast = np.ascontiguousarray(arr, dtype=t.dtype)
        if arr.dtype != cast.dtype:
            with np.errstate(all="ignore"):
                exact = np.array_equal(cast.astype(arr.dtype), arr, equal_nan=arr.dtype.kind == "f")
            if not exact:
                raise ValidationError(
                    f"input {name!r} has dtype {arr.dtype} with values that {t.dtype} cannot hold exactly; "
                    f"the model declares {t.dtype} — convert the data yourself if rounding is intended"
                )
        fed[name] = cast
    return fed


def run_model(model: Model, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Evaluate ``model`` on the reference; returns every model output by name.

    Refused before anything runs when the tensors would exceed the memory budget (:mod:`convertkit.budget`);
    each value is dropped after the last layer that reads it, so the peak is the values alive at once.
    """
    from ..budget import require

    require(model, "reference")
    values: dict[str, np.ndarray] = dict(check_inputs(model, inputs))
    last_use = {v: i for i, layer in enumerate(model.layers) for v in layer.inputs}
    keep = set(model.outputs)
    for index, layer in enumerate(model.layers):
        if layer.graph_input:
            continue
        types = model.input_types(layer)
        try:
            # NaN and infinity are values here as in Caffe and onnxruntime (a log of a negative number): computed,
            # compared where they sit, not warned about
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                results = layer.reference([values[v] for v in layer.inputs], types)
        except ConvertkitError:
            raise
        except (ValueError, ArithmeticError, MemoryError) as exc:
            raise layer.error(f"reference evaluation failed: {exc}") from exc
        for name, arr in zip(layer.outputs, results, strict=True):
            expected = model.types[name]
            if tuple(arr.shape) != expected.shape:
                raise layer.error(
                    f"reference produced shape {list(arr.shape)} for {name!r}, the shape rule says "
                    f"{list(expected.shape)}"
                )
            values[name] = arr
        for v in layer.inputs:
            if last_use.get(v) == index and v not in keep:
                values.pop(v, None)
    return {name: values[name] for name in model.outputs}
