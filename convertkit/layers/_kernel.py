"""The parameter blobs of the convolution-like kinds (Convolution, Deconvolution): weights and an optional bias."""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from ..fillers import WeightSource

__all__ = ["KernelBlobs"]


class KernelBlobs(abc.ABC):
    """Weight and bias materialisation; the kind says its weight layout (:meth:`weight_shape`)."""

    __slots__ = ()
    weight: WeightSource
    bias: WeightSource | None
    bias_term: bool
    out_channels: int

    @abc.abstractmethod
    def weight_shape(self, in_channels: int) -> tuple[int, ...]:
        """The weight blob's shape for ``in_channels`` input channels."""

    @property
    def blob_names(self) -> tuple[str, ...]:
        """The parameter blobs in Caffe's order: ``("weights",)`` or ``("weights", "bias")``."""
        return ("weights", "bias") if self.bias_term else ("weights",)

    def weight_array(self, in_channels: int, dtype: Any = np.float32) -> np.ndarray:
        """The materialised weight blob (:meth:`weight_shape`)."""
        return self.weight.materialize(self.weight_shape(in_channels), dtype)

    def bias_array(self, dtype: Any = np.float32) -> np.ndarray | None:
        """The materialised bias ``(out_channels,)``, or None without bias_term."""
        if not self.bias_term:
            return None
        if self.bias is None:
            return np.zeros((self.out_channels,), dtype=dtype)
        return self.bias.materialize((self.out_channels,), dtype)
