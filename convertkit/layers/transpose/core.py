"""``Transpose``: ``output = input`` with its axes permuted by ``perm`` (ONNX ``Transpose``).

A layout change, not a computation: it exists where a model's interface is channels-last (a Keras model read
with ``keep_layout="nhwc"``, a tf2onnx graph in its default NHWC form) and the layers inside are channels-first.
Inverse pairs fold away on import (:mod:`convertkit.passes.layout`); what remains sits at the boundary.  PyTorch's
``PixelUnshuffle`` export (``Reshape -> Transpose -> Reshape``) folds into one DepthToSpace
(:mod:`convertkit.passes.subpixel`).  Caffe's
stock layers have no Transpose (the SSD fork's ``Permute`` is not read by OpenCV's every build), so a Caffe export
refuses it and names the way out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._fields import int_tuple

__all__ = ["Transpose", "inverse", "NCHW_TO_NHWC", "NHWC_TO_NCHW"]


def inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    """The permutation that undoes ``perm``."""
    out = [0] * len(perm)
    for i, p in enumerate(perm):
        out[p] = i
    return tuple(out)


def NHWC_TO_NCHW(rank: int) -> tuple[int, ...]:  # noqa: N802  (a constant per rank)
    """``(0, rank - 1, 1, ..., rank - 2)``: channels-last to channels-first."""
    return (0, rank - 1, *range(1, rank - 1))


def NCHW_TO_NHWC(rank: int) -> tuple[int, ...]:  # noqa: N802
    """``(0, 2, ..., rank - 1, 1)``: channels-first to channels-last."""
    return (0, *range(2, rank), 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transpose(UnaryLayer):
    """``output[i...] = input`` with axis ``a`` of the output being axis ``perm[a]`` of the input (numpy's rule)."""

    kind: ClassVar[str] = "Transpose"
    perm: tuple[int, ...]

    def __post_init__(self) -> None:
        self._check_io()
        perm = int_tuple(self.name, self.kind, "perm", self.perm)
        if sorted(perm) != list(range(len(perm))) or not perm:
            raise self.error(f"perm must be a permutation of 0..rank-1, got {list(perm)}")
        object.__setattr__(self, "perm", perm)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        if len(x.shape) != len(self.perm):
            raise self.error(f"perm {list(self.perm)} has {len(self.perm)} axes, input {list(x.shape)} {len(x.shape)}")
        return [TensorType(tuple(x.shape[p] for p in self.perm), x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [np.ascontiguousarray(np.transpose(inputs[0], self.perm))]
