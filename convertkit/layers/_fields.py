"""Field normalisation shared by the layer kinds: per-axis tuples and name checks."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ValidationError
from ..specfields import NAME_SCHEMA, int_array_schema, layer_schema

__all__ = [
    "check_name",
    "is_int",
    "int_tuple",
    "float_tuple",
    "NAME_SCHEMA",
    "int_array_schema",
    "layer_schema",
]


def check_name(kind: str, name: Any, what: str = "name") -> str:
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{kind} layer needs a non-empty string {what}, got {name!r}")
    return name


def is_int(value: Any) -> bool:
    """An integer (Python or NumPy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def int_tuple(layer: str, kind: str, field: str, value: Any, n: int | None = None) -> tuple[int, ...]:
    """``value`` as a tuple of ints; a single int is repeated ``n`` times."""
    if is_int(value):
        return (int(value),) if n is None else (int(value),) * n
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not all(is_int(v) for v in value):
        raise ValidationError(f"layer {layer!r} ({kind}): {field} must be integers, got {value!r}")
    out = tuple(int(v) for v in value)
    if n is not None and len(out) != n:
        raise ValidationError(
            f"layer {layer!r} ({kind}): {field} needs {n} values (one per spatial axis), got {len(out)}: {list(out)}"
        )
    return out


def float_tuple(layer: str, kind: str, field: str, value: Any) -> tuple[float, ...]:
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, Sequence)
        or not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in value)
    ):
        raise ValidationError(f"layer {layer!r} ({kind}): {field} must be numbers, got {value!r}")
    return tuple(float(v) for v in value)
