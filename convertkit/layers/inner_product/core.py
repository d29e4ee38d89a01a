"""``InnerProduct``: a fully connected layer, Caffe's ``InnerProduct`` (ONNX ``Gemm``, after a ``Flatten`` or a
``Reshape``).

Caffe's rule, ``src/caffe/layers/inner_product_layer.cpp``: with ``a`` the canonical ``axis`` (negative counts
from the end), the input is viewed as ``(M, K)`` with ``M = prod(dims[:a])`` and ``K = prod(dims[a:])`` (every
axis from ``a`` on is flattened into ``K``), the output is ``dims[:a] + (num_output,)``, and ``y = x W^T + b`` with
the weight blob ``(num_output, K)`` — or ``(K, num_output)`` and ``y = x W + b`` when ``transpose`` is set.  The
bias is ``(num_output,)`` (``bias_term``, default true; zeros when not given).  Caffe's per-blob training
parameters are provenance in ``meta["caffe.training"]``, as for Convolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ...fillers import Filler, Values, WeightSource
from ...ir import TensorType, UnaryLayer
from .._fields import is_int
from .._kernel import KernelBlobs
from .._training import TrainingSpec
from ..deconvolution.core import TRAINING, BlobTraining, checked_training

__all__ = ["InnerProduct", "inner_product"]


def inner_product(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, axis: int, transpose: bool) -> np.ndarray:
    """``x`` viewed as ``(M, K)`` at ``axis`` times ``W^T`` (``W`` with ``transpose``) plus ``b``."""
    a = axis % x.ndim
    x2 = x.reshape(math.prod(x.shape[:a]), math.prod(x.shape[a:]))
    y = x2 @ (w if transpose else w.T)
    if b is not None:
        y = y + b
    return y.reshape(x.shape[:a] + (y.shape[1],))


@dataclass(frozen=True, slots=True, kw_only=True)
class InnerProduct(TrainingSpec, UnaryLayer, KernelBlobs):
    """``output = input(M, K) @ W^T + b`` with ``W`` ``(num_output, K)`` (``transpose``: ``(K, num_output)``)."""

    kind: ClassVar[str] = "InnerProduct"
    num_output: int = field(metadata={"schema": {"minimum": 1}})
    axis: int = 1
    transpose: bool = False
    bias_term: bool = True
    weight: WeightSource
    bias: WeightSource | None = None

    def __post_init__(self) -> None:
        self._check_io()
        if not is_int(self.num_output) or self.num_output < 1:
            raise self.error(f"num_output must be a positive integer, got {self.num_output!r}")
        object.__setattr__(self, "num_output", int(self.num_output))
        if not is_int(self.axis):
            raise self.error(f"axis must be an integer, got {self.axis!r}")
        object.__setattr__(self, "axis", int(self.axis))
        if not isinstance(self.transpose, bool):
            raise self.error(f"transpose must be true or false, got {self.transpose!r}")
        layout = "(K, num_output)" if self.transpose else "(num_output, K)"
        self._check_blobs(layout)
        if isinstance(self.weight, Filler) and self.weight.type == "bilinear":
            raise self.error(f"the bilinear filler fills kernels; an InnerProduct weight {layout} has none")
        if isinstance(self.weight, Values):
            shape = tuple(self.weight.array.shape)
            n_axis = 1 if self.transpose else 0
            if len(shape) != 2 or shape[n_axis] != self.num_output:
                raise self.error(
                    f"weight has shape {shape}; it must be {layout} with num_output = {self.num_output}"
                    + (" (or flip transpose)" if len(shape) == 2 and shape[1 - n_axis] == self.num_output else "")
                )
        checked_training(self, self.blob_names)

    @property
    def out_channels(self) -> int:  # type: ignore[override]
        """``num_output`` (the name :class:`~convertkit.layers._kernel.KernelBlobs` uses)."""
        return self.num_output

    @property
    def blob_training(self) -> tuple[BlobTraining, ...]:
        """How a trainer treats each parameter blob (``meta["caffe.training"]``; ``()`` when not given)."""
        value: tuple[BlobTraining, ...] = self.meta.get(TRAINING, ())
        return value

    def parameter_shapes(self, inputs: list[TensorType]) -> list[tuple[int, ...]]:
        """The weight for ``K`` = the input's features from ``axis`` on, and the bias ``(num_output,)``."""
        shapes = [self.weight_shape(self.in_features(inputs[0].shape))]
        return shapes + [(self.num_output,)] if self.bias_term else shapes

    def weight_shape(self, in_channels: int) -> tuple[int, ...]:
        """``(num_output, K)``, or ``(K, num_output)`` with ``transpose``; ``in_channels`` is ``K``."""
        return (in_channels, self.num_output) if self.transpose else (self.num_output, in_channels)

    def canonical_axis(self, rank: int) -> int:
        if not -rank <= self.axis < rank:
            raise self.error(f"axis {self.axis} is out of range for a rank-{rank} input (-{rank}..{rank - 1})")
        return self.axis % rank

    def in_features(self, dims: tuple[int, ...]) -> int:
        """``K``: the product of the input dimensions from ``axis`` on."""
        return math.prod(dims[self.canonical_axis(len(dims)) :])

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        a, k = self.canonical_axis(len(x.shape)), self.in_features(x.shape)
        if isinstance(self.weight, Values) and tuple(self.weight.array.shape) != self.weight_shape(k):
            raise self.error(
                f"weight has shape {tuple(self.weight.array.shape)}, input {list(x.shape)} with axis {self.axis} has "
                f"K = {k} (the product of dims {list(x.shape[a:])}), so the weight must be {self.weight_shape(k)}"
            )
        return [TensorType(x.shape[:a] + (self.num_output,), x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        (x,) = inputs
        k = self.in_features(x.shape)
        return [inner_product(x, self.weight_array(k, x.dtype), self.bias_array(x.dtype), self.axis, self.transpose)]
