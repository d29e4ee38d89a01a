"""What a kind's Keras facet sees of one Keras layer: its config, its weights and its wired, typed values.

The Keras reader (:mod:`convertkit.formats.keras`) walks a model's layers and hands each kind that reads the
layer's ``class_name`` a :class:`KerasLayer`.  Values in the IR are always channels-first (N, C, spatial...):
the reader has turned a channels_last model's tensors around at the boundary, so a facet reads ``in_types`` as
NCHW and maps Keras axes with :meth:`KerasLayer.ir_axis`, and permutes kernels itself (:func:`conv_kernel`).

No TensorFlow and no Keras are imported here or in the reader: the config is JSON and the weights HDF5 (h5py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConvertkitError, UnsupportedError, ValidationError
from ..ir import TensorType

__all__ = ["KerasLayer", "conv_kernel", "conv_transpose_kernel", "pair_list"]


@dataclass
class KerasLayer:
    """One Keras layer: ``class_name``, ``config`` (the layer's JSON config), ``weights`` (its variables in Keras
    order: kernel then bias, gamma/beta/moving_mean/moving_variance...), and the IR names and NCHW types of the
    values it reads and writes.  ``channels_last`` is the model's layout (the reader refuses a model that mixes
    layouts); ``fresh`` gives a new value or layer name for a layer the facet adds (an activation after a conv).
    """

    class_name: str
    config: dict[str, Any] = field(repr=False)
    weights: list[np.ndarray] = field(repr=False)
    inputs: list[str]
    output: str
    in_types: list[TensorType]
    channels_last: bool
    fresh: Callable[[str], str] = field(repr=False)

    @property
    def name(self) -> str:
        return str(self.config.get("name", self.output))

    @property
    def where(self) -> str:
        return f"Keras layer {self.name!r} ({self.class_name})"

    def error(self, message: str, cls: type[ConvertkitError] = UnsupportedError) -> ConvertkitError:
        """An error about this layer: ``Keras layer 'NAME' (Class): message``."""
        return cls(f"{self.where}: {message}")

    def get(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default)

    def only_input(self) -> tuple[str, TensorType]:
        if len(self.inputs) != 1:
            raise self.error(f"reads {len(self.inputs)} tensors, the layer takes one", ValidationError)
        return self.inputs[0], self.in_types[0]

    def spatial_rank(self) -> int:
        return len(self.in_types[0].shape) - 2

    def ir_axis(self, axis: int) -> int:
        """The NCHW axis of Keras axis ``axis`` (negative from the end) of this layer's first input."""
        rank = len(self.in_types[0].shape)
        if not -rank <= axis < rank:
            raise self.error(f"axis {axis} is out of range for a rank-{rank} tensor", ValidationError)
        a = axis % rank
        if not self.channels_last or a == 0:
            return a
        return 1 if a == rank - 1 else a + 1

    def check_data_format(self) -> None:
        """Refuse a layer whose ``data_format`` is not the model's layout."""
        fmt = self.get("data_format")
        if fmt is None:
            return
        if (fmt == "channels_last") != self.channels_last:
            raise self.error(
                f"data_format {fmt!r} differs from the model's other layers "
                f"({'channels_last' if self.channels_last else 'channels_first'}); convertkit reads models of one "
                "layout — save the model with one data_format"
            )

    def weight(self, index: int, what: str) -> np.ndarray:
        if index >= len(self.weights):
            raise self.error(
                f"the weights file has {len(self.weights)} variables for this layer, {what} is number {index + 1}; "
                "save the model with its weights (model.save)",
                ValidationError,
            )
        return np.asarray(self.weights[index])

    def bias(self) -> np.ndarray | None:
        """The bias variable (the second weight) when ``use_bias`` (Keras's default), else None."""
        return self.weight(1, "the bias") if bool(self.get("use_bias", True)) else None

    def kernel_options(self, n: int) -> tuple[np.ndarray, tuple[int, ...], tuple[int, ...], tuple[int, ...], str]:
        """A (transposed) convolution's kernel variable, its spatial sizes, ``strides``, ``dilation_rate`` and
        ``padding`` (the Keras defaults where absent) for ``n`` spatial axes."""
        kernel = self.weight(0, "the kernel")
        k = tuple(int(v) for v in kernel.shape[:n])
        strides = tuple(int(v) for v in self.get("strides", (1,) * n))
        dilations = tuple(int(v) for v in self.get("dilation_rate", (1,) * n))
        return kernel, k, strides, dilations, str(self.get("padding", "valid"))

    def no_extra(self, known: dict[str, Any]) -> None:
        """Refuse config entries that change the computation and are not at their neutral value."""
        off = {k: self.config[k] for k, neutral in known.items() if k in self.config and self.config[k] != neutral}
        if off:
            raise self.error(
                "convertkit cannot convert "
                + ", ".join(f"{k}={v!r}" for k, v in off.items())
                + f" exactly (supported: {', '.join(f'{k}={v!r}' for k, v in known.items())})"
            )


def pair_list(value: Any, n: int, where: KerasLayer, what: str) -> list[tuple[int, int]]:
    """Keras's ``((before, after), ...)`` / ``(a, b)`` / ``a`` cropping or padding as ``n`` (before, after) pairs."""
    if isinstance(value, int):
        return [(value, value)] * n
    value = list(value)
    if len(value) != n:
        raise where.error(f"{what} needs {n} entries, got {value!r}", ValidationError)
    out = []
    for v in value:
        if isinstance(v, int):
            out.append((v, v))
        else:
            b, e = list(v)
            out.append((int(b), int(e)))
    return out


def conv_kernel(kernel: np.ndarray) -> np.ndarray:
    """Keras ``Conv`` kernel ``(k..., C / group, M)`` as ONNX ``(M, C / group, k...)``."""
    n = kernel.ndim - 2
    return np.ascontiguousarray(np.transpose(kernel, (n + 1, n, *range(n))))


def conv_transpose_kernel(kernel: np.ndarray) -> np.ndarray:
    """Keras ``ConvTranspose`` kernel ``(k..., M, C)`` as ONNX ``ConvTranspose`` ``(C, M, k...)``."""
    n = kernel.ndim - 2
    return np.ascontiguousarray(np.transpose(kernel, (n + 1, n, *range(n))))
