"""``Tile``: ``output = numpy.tile(input, repeats)`` (ONNX ``Tile``), read only inside the repeat form of nearest
upsampling that TensorFlow exporters write (``Unsqueeze -> Tile -> Reshape``, :mod:`convertkit.passes.layout`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._fields import int_tuple

__all__ = ["Tile"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tile(UnaryLayer):
    """``output`` repeats the whole of ``input`` ``repeats[a]`` times along each axis ``a``."""

    kind: ClassVar[str] = "Tile"
    repeats: tuple[int, ...]

    def __post_init__(self) -> None:
        self._check_io()
        repeats = int_tuple(self.name, self.kind, "repeats", self.repeats)
        if not repeats or any(r < 1 for r in repeats):
            raise self.error(f"repeats must be positive, one per axis, got {list(repeats)}")
        object.__setattr__(self, "repeats", repeats)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        if len(x.shape) != len(self.repeats):
            raise self.error(f"repeats {list(self.repeats)} need rank {len(self.repeats)}, input is {list(x.shape)}")
        return [TensorType(tuple(d * r for d, r in zip(x.shape, self.repeats, strict=True)), x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [np.tile(inputs[0], self.repeats)]
