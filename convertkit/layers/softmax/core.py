"""``Softmax``: ``exp(x - max) / sum(exp(x - max))`` along ``axis`` (negative counts from the end), every other
axis independent — Caffe's ``Softmax`` (default axis 1) and ONNX ``Softmax`` from opset 13 (one axis; older opsets
flatten the axes from ``axis`` on, which the ONNX reader accepts only where that is the same).

The axis is kept as written (``-1`` stays ``-1``): both formats say it so, and a round trip keeps the spelling.
The reference is :func:`convertkit.reference.normalization.softmax`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._fields import is_int

__all__ = ["Softmax"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Softmax(UnaryLayer):
    """Softmax of ``input`` along ``axis`` (Caffe's default 1: the channels)."""

    kind: ClassVar[str] = "Softmax"
    axis: int = 1

    def __post_init__(self) -> None:
        self._check_io()
        if not is_int(self.axis):
            raise self.error(f"axis must be an integer, got {self.axis!r}")
        object.__setattr__(self, "axis", int(self.axis))

    def normalised_axis(self, rank: int) -> int:
        """``axis`` in ``[0, rank)``."""
        if not -rank <= self.axis < rank:
            raise self.error(f"axis {self.axis} is out of range for rank {rank}")
        return self.axis % rank

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        self.normalised_axis(len(inputs[0].shape))
        return [inputs[0]]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        from ...reference.normalization import softmax  # the kernels load where they run

        return [softmax(inputs[0], axis=self.axis)]
