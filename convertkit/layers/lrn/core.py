"""``LRN``: local response normalisation, across channels (ONNX ``LRN``, Caffe ``ACROSS_CHANNELS``) or within each
channel (Caffe ``WITHIN_CHANNEL``).

* across channels: ``y = x * (bias + alpha / size * sum of x^2 over the size channels around c) ^ -beta``.  ONNX
  and Caffe agree: both divide alpha by size (``lrn_layer.cpp`` CrossChannelForward_cpu, ``alpha_over_size``) and
  Caffe's ``k`` is ONNX's ``bias``.
* within channel: Caffe's chain of layers (``src/caffe/layers/lrn_layer.cpp`` LayerSetUp): square, AVE pooling of
  ``size x size``, stride 1, pad ``(size - 1) / 2``, then ``Power(power=-beta, scale=alpha, shift=1)`` and the
  product with ``x``: ``y = x * (1 + alpha * avg(x^2)) ^ -beta``.  ``bias`` (Caffe's ``k``) is not used there
  (kept as written).  With that stride and pad every window lies inside the padded input, so Caffe's AVE divisor is
  ``size^2`` everywhere, border windows included — ONNX ``AveragePool`` with ``count_include_pad=1``.

IR names are ONNX's (``size``, ``bias``); the defaults are Caffe's ``LRNParameter`` (size 5, alpha 1, beta 0.75,
k 1).  Caffe CHECKs an odd ``local_size``; ONNX takes any size across channels, so an even size is valid IR and
refused at the Caffe boundary.  The reference is :func:`convertkit.reference.normalization.caffe_lrn` / ``lrn``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._fields import is_int

__all__ = ["LRN", "NORM_REGIONS"]

NORM_REGIONS: tuple[str, ...] = ("across_channels", "within_channel")


@dataclass(frozen=True, slots=True, kw_only=True)
class LRN(UnaryLayer):
    """Local response normalisation of ``input`` (N, C, ...) over ``size`` channels or a ``size x size`` window."""

    kind: ClassVar[str] = "LRN"
    spatially_pointwise: ClassVar[bool] = True
    size: int = 5
    alpha: float = 1.0
    beta: float = 0.75
    bias: float = 1.0
    norm_region: str = field(default="across_channels", metadata={"schema": {"enum": list(NORM_REGIONS)}})

    def __post_init__(self) -> None:
        self._check_io()
        if not is_int(self.size) or int(self.size) < 1:
            raise self.error(f"size must be a positive integer, got {self.size!r}")
        object.__setattr__(self, "size", int(self.size))
        for fname in ("alpha", "beta", "bias"):
            value = getattr(self, fname)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise self.error(f"{fname} must be a finite number, got {value!r}")
            object.__setattr__(self, fname, float(np.float32(value)))  # a float32 in Caffe and ONNX
        if self.norm_region not in NORM_REGIONS:
            raise self.error(f"norm_region must be one of {', '.join(NORM_REGIONS)}, got {self.norm_region!r}")
        if self.norm_region == "within_channel" and self.size % 2 == 0:
            raise self.error(
                f"size {self.size} within channel: the window is centred (Caffe pads (size - 1) / 2 and CHECKs an "
                "odd local_size); use an odd size"
            )

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        if self.norm_region == "within_channel" and len(x.shape) != 4:
            raise self.error(
                f"input {self.input!r} has shape {list(x.shape)}; LRN within channel needs (N, C, H, W) (Caffe's)"
            )
        if len(x.shape) < 3:
            raise self.error(f"input {self.input!r} has shape {list(x.shape)}; LRN needs (N, C, spatial...)")
        return [x]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        from ...reference.normalization import caffe_lrn, lrn  # the kernels load where they run

        (x,) = inputs
        if self.norm_region == "across_channels":
            return [lrn(x, size=self.size, alpha=self.alpha, beta=self.beta, bias=self.bias)]
        return [
            caffe_lrn(
                x, local_size=self.size, alpha=self.alpha, beta=self.beta, k=self.bias, norm_region="WITHIN_CHANNEL"
            )
        ]
