"""The parameter blobs of the convolution-like kinds (Convolution, Deconvolution): weights and an optional bias."""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from ..errors import ConvertkitError, ValidationError
from ..fillers import Filler, Values, WeightSource

__all__ = ["KernelBlobs"]


class KernelBlobs(abc.ABC):
    """Weight and bias materialisation; the kind says its weight layout (:meth:`weight_shape`)."""

    __slots__ = ()
    weight: WeightSource
    bias: WeightSource | None
    bias_term: bool
    out_channels: int

    @abc.abstractmethod
    def error(self, message: str, cls: type[ConvertkitError] = ValidationError) -> ConvertkitError:
        """An error about this layer (:meth:`convertkit.ir.Layer.error`; kinds are Layers)."""

    @abc.abstractmethod
    def weight_shape(self, in_channels: int) -> tuple[int, ...]:
        """The weight blob's shape for ``in_channels`` input channels."""

    def _check_blobs(self, weight_layout: str) -> None:
        """Kinds call this in ``__post_init__``: the sources' types, and a bias that fits ``(out_channels,)``."""
        error = self.error
        if not isinstance(self.weight, (Filler, Values)):
            raise error(f"weight must be a Filler or Values, got {type(self.weight).__name__}")
        if self.bias is not None and not isinstance(self.bias, (Filler, Values)):
            raise error(f"bias must be a Filler, Values or None, got {type(self.bias).__name__}")
        if not isinstance(self.bias_term, bool):
            raise error(f"bias_term must be true or false, got {self.bias_term!r}")
        if isinstance(self.bias, Filler) and self.bias.type == "bilinear":
            raise error(
                f"the bilinear filler fills kernels {weight_layout}; a bias (out_channels,) has no spatial axes"
            )
        if not self.bias_term and self.bias is not None:
            raise error("bias is given but bias_term is false; drop the bias or set bias_term true")
        if isinstance(self.bias, Values) and tuple(self.bias.array.shape) != (self.out_channels,):
            raise error(
                f"bias shape must be (out_channels,) = ({self.out_channels},), got {tuple(self.bias.array.shape)}"
            )

    @property
    def blob_names(self) -> tuple[str, ...]:
        """The parameter blobs in Caffe's order: ``("weights",)`` or ``("weights", "bias")``."""
        return ("weights", "bias") if self.bias_term else ("weights",)

    def parameter_shapes(self, inputs: list[Any]) -> list[tuple[int, ...]]:
        """The weight blob's shape for the first input's channels, and the bias's (``(out_channels,)``)."""
        shapes = [self.weight_shape(inputs[0].shape[1])]
        return shapes + [(self.out_channels,)] if self.bias_term else shapes

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
