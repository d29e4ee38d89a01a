"""``Transpose``: a permutation of the axes (ONNX ``Transpose``).

Read from ONNX only as part of a multi-node form (:mod:`convertkit.passes.subpixel` folds PyTorch's
``Reshape -> Transpose -> Reshape`` for ``PixelUnshuffle`` into one DepthToSpace); Caffe has no stock Transpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._fields import int_tuple

__all__ = ["Transpose"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Transpose(UnaryLayer):
    """``output`` = ``input`` with axis ``perm[k]`` as axis ``k``."""

    kind: ClassVar[str] = "Transpose"
    perm: tuple[int, ...]

    def __post_init__(self) -> None:
        self._check_io()
        perm = int_tuple(self.name, self.kind, "perm", self.perm)
        if sorted(perm) != list(range(len(perm))):
            raise self.error(f"perm must be a permutation of 0..{len(perm) - 1}, got {list(perm)}")
        object.__setattr__(self, "perm", perm)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        if len(x.shape) != len(self.perm):
            raise self.error(f"perm {list(self.perm)} needs rank {len(self.perm)}, input is {list(x.shape)}")
        return [TensorType(tuple(x.shape[a] for a in self.perm), x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [np.ascontiguousarray(inputs[0].transpose(self.perm))]
