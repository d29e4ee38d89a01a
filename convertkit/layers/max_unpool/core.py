"""``MaxUnpool``: max-unpooling — zeros of the output size with each input value written where its pooling's argmax
mask points (SegNet / ENet ``Upsample``, DeconvNet ``UNPOOLING``, ONNX ``MaxUnpool``, PyTorch ``MaxUnpool2d``).

The mask is the second value of a max :class:`~convertkit.layers.pooling.Pooling` (``indices``) in the IR's one
convention, Caffe's: per ``(n, c)`` plane, the row-major index ``h * W + w`` into the *output* plane, held as a
float.  Output plane ``(n, c)`` is zeros with ``output[mask[i]] = input[i]`` for every input cell ``i`` in
row-major order, so where two cells point at one place the later one wins (caffe-segnet ``upsample_layer.cpp``
``Forward_cpu``, DeconvNet ``unpooling_layer.cpp``, onnxruntime's MaxUnpool loop all write in that order).

``kernel_shape``, ``strides`` and ``pads`` are the windows the mask came from (ONNX's attributes; SegNet's
``scale`` is kernel = stride); they size the output when ``output_shape`` (the spatial sizes) is not given:
``(in - 1) * stride + kernel - pad_begin - pad_end`` (ONNX).  Where a mask points outside the output plane the
reference refuses it (caffe-segnet LOG(FATAL)s, onnxruntime fails).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ...ir import Layer, TensorType
from .._fields import check_name, int_tuple

__all__ = ["MaxUnpool"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxUnpool(Layer):
    """Scatter ``input`` into zeros of ``output_shape`` (spatial) at the per-plane indices ``mask``."""

    kind: ClassVar[str] = "MaxUnpool"
    upsamples: ClassVar[bool] = True
    input: str
    mask: str
    output: str = ""
    kernel_shape: tuple[int, ...] = field(metadata={"schema": {"minimum": 1}})
    strides: tuple[int, ...] = field(default=(), metadata={"schema": {"minimum": 1}, "per_axis_default": 1})
    pads: tuple[int, ...] = field(default=(), metadata={"schema": {"minimum": 0}, "per_axis_default": 0})
    output_shape: tuple[int, ...] | None = field(default=None, metadata={"schema": {"minimum": 1}})

    def __post_init__(self) -> None:
        self._normalise_meta()
        check_name(self.kind, self.name)
        check_name(self.kind, self.input, "input")
        check_name(self.kind, self.mask, "mask")
        if not self.output:
            object.__setattr__(self, "output", self.name)
        check_name(self.kind, self.output, "output")
        kernel = int_tuple(self.name, self.kind, "kernel_shape", self.kernel_shape)
        n = len(kernel)
        if n < 1 or any(k < 1 for k in kernel):
            raise self.error(f"kernel_shape must list one size >= 1 per spatial axis, got {list(kernel)}")
        strides = int_tuple(self.name, self.kind, "strides", self.strides or (1,) * n, n)
        pads = int_tuple(self.name, self.kind, "pads (begin..., end...)", self.pads or (0,) * (2 * n), 2 * n)
        if any(s < 1 for s in strides):
            raise self.error(f"strides must be >= 1, got {list(strides)}")
        if any(p < 0 for p in pads):
            raise self.error(f"pads must be >= 0, got {list(pads)}")
        object.__setattr__(self, "kernel_shape", kernel)
        object.__setattr__(self, "strides", strides)
        object.__setattr__(self, "pads", pads)
        if self.output_shape is not None:
            shape = int_tuple(self.name, self.kind, "output_shape (spatial sizes)", self.output_shape, n)
            if any(d < 1 for d in shape):
                raise self.error(f"output_shape must list positive spatial sizes, got {list(shape)}")
            object.__setattr__(self, "output_shape", shape)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input, self.mask)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    @property
    def non_overlapping(self) -> bool:
        """Whether the pooling windows tile the input without overlap or gaps (kernel == stride, no pads)."""
        return self.kernel_shape == self.strides and not any(self.pads)

    def default_spatial(self, in_spatial: tuple[int, ...]) -> tuple[int, ...]:
        """ONNX's output size without ``output_shape``: ``(in - 1) * stride + kernel - pad_begin - pad_end``."""
        n = len(self.kernel_shape)
        return tuple(
            (in_spatial[a] - 1) * self.strides[a] + self.kernel_shape[a] - self.pads[a] - self.pads[n + a]
            for a in range(n)
        )

    def output_spatial(self, in_spatial: tuple[int, ...]) -> tuple[int, ...]:
        return self.output_shape if self.output_shape is not None else self.default_spatial(in_spatial)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        x, mask = inputs
        n = len(self.kernel_shape)
        if len(x.shape) != n + 2:
            raise self.error(
                f"input {self.input!r} has shape {list(x.shape)}, but kernel_shape {list(self.kernel_shape)} needs "
                f"rank {n + 2} (N, C, {n} spatial)"
            )
        if mask.shape != x.shape:
            raise self.error(
                f"mask {self.mask!r} has shape {list(mask.shape)}, the input {list(x.shape)}; the mask is the "
                "argmax of the pooling whose output the input stands for, one index per input cell"
            )
        out = self.output_spatial(x.shape[2:])
        if any(o < 1 for o in out):
            raise self.error(f"output size {list(out)} is not positive for input {list(x.shape[2:])}")
        if int(np.prod(out)) > 2**24 and mask.dtype == "float32":
            raise self.error(
                f"the mask holds plane indices as floats; an output plane of {int(np.prod(out))} cells passes 2**24, "
                "where float32 stops holding every whole number; use float64"
            )
        return [TensorType((*x.shape[:2], *out), x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        from ...reference import pooling as ref

        x, mask = inputs
        return [ref.caffe_max_unpool(x, mask, output_spatial=self.output_spatial(x.shape[2:]))]
