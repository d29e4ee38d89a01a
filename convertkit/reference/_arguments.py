"""Argument checks and the resolved window geometry shared by the reference kernels.

Conv and ConvTranspose resolve their attributes into the same per-axis :class:`WindowGeometry`; every kernel
checks its input with :func:`check_float_input` and its per-axis attributes with :func:`per_axis`.  Messages
name the operator, the rule and the values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from convertkit.errors import ValidationError

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def per_axis(
    op: str, name: str, value: Sequence[int] | None, count: int, default: int, *, minimum: int
) -> tuple[int, ...]:
    """``count`` integers >= ``minimum`` from an attribute (``default`` each when absent), or a ValidationError."""
    if value is None:
        return (default,) * count
    values = tuple(int(v) for v in value)
    if len(values) != count:
        raise ValidationError(f"{op}: {name} needs {count} values, got {list(values)}")
    if any(v < minimum for v in values):
        rule = "positive" if minimum == 1 else f">= {minimum}"
        raise ValidationError(f"{op}: {name} must be {rule}, got {list(values)}")
    return values


def check_float_input(op: str, x: np.ndarray, *, min_rank: int = 3) -> np.ndarray:
    """``x`` as an array, float32 or float64, rank >= ``min_rank`` (N, C, spatial...), non-empty spatial axes."""
    x = np.asarray(x)
    if x.dtype not in FLOAT_DTYPES:
        raise ValidationError(f"{op}: x must be float32 or float64, not {x.dtype}")
    if x.ndim < min_rank:
        raise ValidationError(f"{op}: x must have rank >= {min_rank} (N, C, spatial...), got shape {list(x.shape)}")
    if any(i < 1 for i in x.shape[2:]):
        raise ValidationError(f"{op}: spatial sizes of x must be >= 1, got shape {list(x.shape)}")
    return x


@dataclass(frozen=True)
class WindowGeometry:
    """One Conv or ConvTranspose call with every attribute resolved to explicit per-axis integers."""

    group: int
    in_channels: int
    out_channels: int
    input_spatial: tuple[int, ...]
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads_begin: tuple[int, ...]
    pads_end: tuple[int, ...]
    output_spatial: tuple[int, ...]

    @property
    def rank(self) -> int:
        return len(self.input_spatial)

    @property
    def in_per_group(self) -> int:
        return self.in_channels // self.group

    @property
    def out_per_group(self) -> int:
        return self.out_channels // self.group
