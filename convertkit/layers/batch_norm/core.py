"""``BatchNorm``: batch normalisation at inference with stored statistics, optionally followed by a per-channel
scale and bias.

``y = (x - mean') / sqrt(variance' + eps) [* scale[c]] [+ bias[c]]`` along axis 1, where ``mean'`` and
``variance'`` are Caffe's stored blobs divided by its moving-average factor ``scale_factor`` (the third blob), or
0 when that factor is 0 (``src/caffe/layers/batch_norm_layer.cpp``, Forward_cpu with use_global_stats:
``scale_factor = blobs_[2][0] == 0 ? 0 : 1 / blobs_[2][0]``).  A Caffe net without a caffemodel has all three
blobs zero, so ``y = x / sqrt(eps)``.

Caffe's BatchNorm has no scale or bias: a ``Scale`` layer follows it.  The IR keeps the Caffe pair as two layers
(``BatchNorm`` + ``Scale``, so a prototxt round trip is bit for bit) and an ONNX ``BatchNormalization`` as one
``BatchNorm`` with ``scale`` and ``bias``; :mod:`convertkit.passes.normalization` turns one into the other at export.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...fillers import Filler, Values, WeightSource
from ...ir import TensorType, UnaryLayer
from .._training import TrainingSpec
from ..deconvolution.core import checked_training

__all__ = ["BatchNorm", "batch_norm_inference"]

#: BatchNormParameter's eps default (a float32 in Caffe; the ONNX attribute default too).
DEFAULT_EPS = float(np.float32(1e-5))


def batch_norm_inference(
    x: np.ndarray,
    mean: np.ndarray,
    variance: np.ndarray,
    eps: float,
    scale: np.ndarray | None = None,
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """Caffe's order: ``x - mean``, ``sqrt(variance + eps)``, divide; then ``* scale`` and ``+ bias`` (Scale)."""
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    dtype = x.dtype.type
    y = (x - mean.astype(x.dtype).reshape(shape)) / np.sqrt(variance.astype(x.dtype) + dtype(eps)).reshape(shape)
    if scale is not None:
        y = y * scale.astype(x.dtype).reshape(shape)
    if bias is not None:
        y = y + bias.astype(x.dtype).reshape(shape)
    return y


def _check_vector(layer: BatchNorm, what: str, source: Any, optional: bool) -> None:
    if source is None and optional:
        return
    if not isinstance(source, (Filler, Values)):
        raise layer.error(f"{what} must be a Filler or Values, got {type(source).__name__}")
    if isinstance(source, Filler) and source.type == "bilinear":
        raise layer.error(f"the bilinear filler fills kernels; {what} (C,) has no spatial axes")
    if isinstance(source, Values) and source.array.ndim != 1:
        raise layer.error(f"{what} must have shape (C,), got {tuple(source.array.shape)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchNorm(TrainingSpec, UnaryLayer):
    """Inference batch normalisation of ``input`` (N, C, ...) with per-channel ``mean`` and ``variance``.

    ``scale_factor`` is Caffe's third blob (the moving-average normaliser): the statistics used are ``mean /
    scale_factor`` and ``variance / scale_factor`` (0 when it is 0).  ``scale`` and ``bias`` (C,) are the ONNX
    BatchNormalization's; in Caffe they are a Scale layer after the BatchNorm.
    """

    kind: ClassVar[str] = "BatchNorm"
    spatially_pointwise: ClassVar[bool] = True
    training_blobs: ClassVar[int] = 3
    mean: WeightSource
    variance: WeightSource
    scale_factor: float = 1.0
    eps: float = DEFAULT_EPS
    scale: WeightSource | None = None
    bias: WeightSource | None = None

    def __post_init__(self) -> None:
        self._check_io()
        _check_vector(self, "mean", self.mean, False)
        _check_vector(self, "variance", self.variance, False)
        _check_vector(self, "scale", self.scale, True)
        _check_vector(self, "bias", self.bias, True)
        for fname in ("scale_factor", "eps"):
            value = getattr(self, fname)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise self.error(f"{fname} must be a finite number, got {value!r}")
            # Caffe's blob and eps field and ONNX's epsilon attribute are float32.
            object.__setattr__(self, fname, float(np.float32(value)))
        if self.eps < 0:
            raise self.error(f"eps must be >= 0, got {self.eps} (it is added to the variance before the root)")
        arrays = [s for s in (self.mean, self.variance, self.scale, self.bias) if isinstance(s, Values)]
        if len({a.array.shape for a in arrays}) > 1:
            raise self.error(
                f"mean, variance, scale and bias need one shape (C,), got {[tuple(a.array.shape) for a in arrays]}"
            )
        checked_training(self, ("mean", "variance", "scale_factor"))

    @property
    def fused(self) -> bool:
        """Whether the layer carries a scale or bias (a Caffe BatchNorm + Scale pair)."""
        return self.scale is not None or self.bias is not None

    def statistics(self, channels: int) -> tuple[np.ndarray, np.ndarray]:
        """``(mean', variance')`` in float32: the stored vectors divided by ``scale_factor`` as Caffe does."""
        from ...reference.normalization import caffe_batch_norm_statistics  # the kernels load where they run

        return caffe_batch_norm_statistics(
            self.mean.materialize((channels,), np.float32),
            self.variance.materialize((channels,), np.float32),
            np.array([self.scale_factor], np.float32),
        )

    def parameter_shapes(self, inputs: list[TensorType]) -> list[tuple[int, ...]]:
        """Mean and variance, and the scale and bias where given: ``(C,)`` each."""
        c = inputs[0].shape[1]
        return [(c,)] * (2 + (self.scale is not None) + (self.bias is not None))

    def scale_array(self, channels: int, dtype: Any = np.float32) -> np.ndarray | None:
        return None if self.scale is None else self.scale.materialize((channels,), dtype)

    def bias_array(self, channels: int, dtype: Any = np.float32) -> np.ndarray | None:
        return None if self.bias is None else self.bias.materialize((channels,), dtype)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        if len(x.shape) < 2:
            raise self.error(
                f"input {self.input!r} has shape {list(x.shape)}; BatchNorm needs (N, C, ...) — reshape a vector "
                "to (N, C) first"
            )
        for what in ("mean", "variance", "scale", "bias"):
            source = getattr(self, what)
            if isinstance(source, Values) and source.array.shape != (x.shape[1],):
                raise self.error(
                    f"{what} has shape {tuple(source.array.shape)}, the input {list(x.shape)} has {x.shape[1]} channels"
                )
        return [x]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        (x,) = inputs
        c = x.shape[1]
        mean, variance = self.statistics(c)
        return [batch_norm_inference(x, mean, variance, self.eps, self.scale_array(c), self.bias_array(c))]
