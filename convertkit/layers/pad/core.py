"""``Pad``: pad the spatial axes of ``input`` with zeros (``constant``) or by repeating the edge (``edge``).

``pads`` are ONNX's ``(begin..., end...)`` over the spatial axes (N and C are never padded), non-negative.  The
multi-node recipes of :mod:`convertkit.passes` use it (the edge replication that turns Caffe's bilinear recipe into
half-pixel Resize, the rows output_padding appends past what onnxruntime accepts).  ONNX: ``Pad``.  Caffe has no
Pad layer: ``edge`` is written as ``Slice`` + ``Concat`` of the edge rows, ``constant`` zeros as a frozen grouped
``Deconvolution`` with a one-hot kernel (both exact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._fields import int_tuple

__all__ = ["Pad", "PAD_MODES"]

PAD_MODES: tuple[str, ...] = ("constant", "edge")


@dataclass(frozen=True, slots=True, kw_only=True)
class Pad(UnaryLayer):
    """Pad the spatial axes of ``input`` by ``pads`` (begin..., end...) in ``mode`` (``value`` for constant)."""

    kind: ClassVar[str] = "Pad"
    pads: tuple[int, ...] = field(metadata={"schema": {"minimum": 0, "minItems": 2}})
    mode: str = field(default="constant", metadata={"schema": {"enum": list(PAD_MODES)}})
    value: float = 0.0

    def __post_init__(self) -> None:
        self._check_io()
        pads = int_tuple(self.name, self.kind, "pads", self.pads)
        if not pads or len(pads) % 2:
            raise self.error(f"pads needs (begin..., end...) for each spatial axis, got {list(pads)}")
        if any(p < 0 for p in pads):
            raise self.error(f"pads must be >= 0 (a negative pad crops: use Crop), got {list(pads)}")
        object.__setattr__(self, "pads", pads)
        if self.mode not in PAD_MODES:
            raise self.error(f"mode must be one of {', '.join(PAD_MODES)}, got {self.mode!r}")
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)) or not math.isfinite(self.value):
            raise self.error(f"value must be a finite number, got {self.value!r}")
        if self.mode == "edge" and self.value != 0.0:
            raise self.error(f"value {self.value!r} applies to mode constant only; mode edge repeats the edge")
        object.__setattr__(self, "value", float(self.value))

    @property
    def spatial_rank(self) -> int:
        return len(self.pads) // 2

    def widths(self, rank: int) -> list[tuple[int, int]]:
        """``numpy.pad`` widths for a tensor of ``rank`` (N and C unpadded)."""
        n = self.spatial_rank
        return [(0, 0)] * (rank - n) + [(self.pads[a], self.pads[n + a]) for a in range(n)]

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        x = self.spatial_input(inputs, self.spatial_rank, f"pads {list(self.pads)} need")
        if self.mode == "edge" and any(d < 1 for d in x.shape):
            raise self.error(f"mode edge needs a non-empty input, got {list(x.shape)}")
        shape = tuple(d + b + e for d, (b, e) in zip(x.shape, self.widths(len(x.shape)), strict=True))
        return [TensorType(shape, x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        (x,) = inputs
        widths = self.widths(x.ndim)
        if self.mode == "edge":
            return [np.pad(x, widths, mode="edge")]
        return [np.pad(x, widths, mode="constant", constant_values=np.asarray(self.value, dtype=x.dtype))]
