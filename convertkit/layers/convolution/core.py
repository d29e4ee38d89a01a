"""``Convolution``: N-D grouped, dilated convolution (ONNX Conv, Caffe Convolution).

Fields use ONNX names: ``kernel_shape``, ``strides``, ``dilations``, ``group``; ``pads`` are explicit
``(begin..., end...)`` (an ONNX ``auto_pad`` is resolved to them when read, :func:`onnx_auto_pad_conv_pads`).  The
weight blob has shape ``(out_channels, C / group, k...)``, the bias ``(out_channels,)``.  Caffe's training
parameters (``param { lr_mult ... }``) are provenance in ``meta["caffe.training"]``, as for Deconvolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ... import shapes
from ...coord_map import CoordMap, filter_map
from ...fillers import Values, WeightSource
from ...ir import TensorType, UnaryLayer
from .._fields import int_tuple, is_int
from .._kernel import KernelBlobs
from .._training import TrainingSpec
from ..deconvolution.core import TRAINING, BlobTraining, checked_training

__all__ = ["Convolution", "onnx_auto_pad_conv_pads", "AUTO_PADS"]

#: ONNX Conv's ``auto_pad`` values besides NOTSET.
AUTO_PADS: tuple[str, ...] = ("SAME_UPPER", "SAME_LOWER", "VALID")


def onnx_auto_pad_conv_pads(i: int, k: int, s: int, d: int, auto_pad: str) -> tuple[int, int]:
    """ONNX Conv ``auto_pad`` -> ``(pb, pe)`` on one axis, as onnxruntime computes it.

    ``VALID``: no pads, ``o = floor((i - k_eff) / s) + 1``.  ``SAME_UPPER`` / ``SAME_LOWER``: ``o = ceil(i / s)``
    with ``total = max(0, (o - 1) * s + k_eff - i)``; SAME_UPPER puts the odd pad at the end (``pb = total // 2``),
    SAME_LOWER at the beginning (``pe = total // 2``).
    """
    if auto_pad in ("NOTSET", "VALID"):
        return 0, 0
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise ValueError(f"auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, not {auto_pad!r}")
    total = max(0, (math.ceil(i / s) - 1) * s + shapes.effective_kernel(k, d) - i)
    small = total // 2
    return (small, total - small) if auto_pad == "SAME_UPPER" else (total - small, small)


@dataclass(frozen=True, slots=True, kw_only=True)
class Convolution(TrainingSpec, UnaryLayer, KernelBlobs):
    """Convolution of ``input`` (N, C, spatial...) into ``output`` (N, out_channels, spatial'...).

    ``o = floor((i + pb + pe - k_eff) / s) + 1`` per axis (:func:`convertkit.shapes.conv_output_size`).  ``bias``
    defaults to zeros when ``bias_term`` is true.  ``meta["caffe.training"]`` keeps the per-blob training
    parameters (weights, then bias) as the user wrote them; they do not change inference.
    """

    kind: ClassVar[str] = "Convolution"
    out_channels: int = field(metadata={"schema": {"minimum": 1}})
    kernel_shape: tuple[int, ...] = field(metadata={"schema": {"minimum": 1}})
    strides: tuple[int, ...] | None = field(default=None, metadata={"schema": {"minimum": 1}, "per_axis_default": 1})
    dilations: tuple[int, ...] | None = field(default=None, metadata={"schema": {"minimum": 1}, "per_axis_default": 1})
    pads: tuple[int, ...] | None = field(
        default=None, metadata={"schema": {"minimum": 0, "minItems": 2}, "per_axis_default": 0}
    )
    group: int = field(default=1, metadata={"schema": {"minimum": 1}})
    bias_term: bool = True
    weight: WeightSource
    bias: WeightSource | None = None

    def __post_init__(self) -> None:
        self._check_io()
        set_ = object.__setattr__
        kernel = int_tuple(self.name, self.kind, "kernel_shape", self.kernel_shape)
        n = len(kernel)
        if n < 1:
            raise self.error("kernel_shape needs at least one spatial axis")
        set_(self, "kernel_shape", kernel)
        for fname, default, count in (("strides", 1, n), ("dilations", 1, n), ("pads", 0, 2 * n)):
            value = getattr(self, fname)
            set_(self, fname, int_tuple(self.name, self.kind, fname, default if value is None else value, count))
        for fname in ("kernel_shape", "strides", "dilations"):
            values = getattr(self, fname)
            if any(v < 1 for v in values):
                raise self.error(f"{fname} must be >= 1, got {list(values)}")
        if any(p < 0 for p in self.pads or ()):
            raise self.error(f"pads must be >= 0 (begin..., end...), got {list(self.pads or ())}")
        for fname in ("out_channels", "group"):
            value = getattr(self, fname)
            if not is_int(value) or value < 1:
                raise self.error(f"{fname} must be a positive integer, got {value!r}")
            set_(self, fname, int(value))
        if self.out_channels % self.group:
            raise self.error(f"group must divide out_channels, but {self.group} does not divide {self.out_channels}")
        self._check_blobs("(M, C / group, k...)")
        if isinstance(self.weight, Values):
            w = tuple(self.weight.array.shape)
            if len(w) != n + 2 or w[0] != self.out_channels or w[2:] != kernel:
                raise self.error(
                    f"weight shape must be (out_channels, C / group, *kernel_shape) = "
                    f"({self.out_channels}, C / {self.group}, {', '.join(map(str, kernel))}), got {w}"
                )
        self._check_training()

    def _check_training(self) -> None:
        checked_training(self, self.blob_names)

    # -- facets ---------------------------------------------------------------------------------------------------

    @property
    def spatial_rank(self) -> int:
        return len(self.kernel_shape)

    @property
    def blob_training(self) -> tuple[BlobTraining, ...]:
        """How a trainer treats each parameter blob (``meta["caffe.training"]``; ``()`` when not given)."""
        value: tuple[BlobTraining, ...] = self.meta.get(TRAINING, ())
        return value

    @property
    def pads_begin(self) -> tuple[int, ...]:
        assert self.pads is not None
        return self.pads[: self.spatial_rank]

    @property
    def pads_end(self) -> tuple[int, ...]:
        assert self.pads is not None
        return self.pads[self.spatial_rank :]

    #: Layer's default says "no parameters"; the kernel mixin comes second in the bases, so name it here.
    parameter_shapes = KernelBlobs.parameter_shapes

    def weight_shape(self, in_channels: int) -> tuple[int, ...]:
        return (self.out_channels, in_channels // self.group, *self.kernel_shape)

    def coord_map(self, inputs: list[TensorType]) -> CoordMap:
        """A filter's map (:func:`convertkit.coord_map.filter_map`): stride, begin pad, dilated kernel."""
        assert self.strides is not None and self.dilations is not None
        return filter_map(self.kernel_shape, self.strides, self.pads_begin, self.dilations)

    def output_spatial(self, in_spatial: tuple[int, ...]) -> tuple[int, ...]:
        assert self.strides is not None and self.dilations is not None
        return tuple(
            shapes.conv_output_size(i, k, s, pb, pe, d)
            for i, k, s, pb, pe, d in zip(
                in_spatial, self.kernel_shape, self.strides, self.pads_begin, self.pads_end, self.dilations, strict=True
            )
        )

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        n = self.spatial_rank
        x = self.spatial_input(inputs, n, f"kernel_shape {list(self.kernel_shape)} needs")
        c = x.shape[1]
        if c % self.group:
            raise self.error(f"group must divide the input channels, but {self.group} does not divide {c}")
        if isinstance(self.weight, Values) and self.weight.array.shape[1] * self.group != c:
            raise self.error(
                f"weight shape must be (out_channels, C / group, *kernel_shape) with C / group = {c} / {self.group} "
                f"= {c // self.group}, got {tuple(self.weight.array.shape)}"
            )
        out = self.output_spatial(x.shape[2:])
        if any(o < 1 for o in out):
            assert self.dilations is not None
            k_eff = [shapes.effective_kernel(k, d) for k, d in zip(self.kernel_shape, self.dilations, strict=True)]
            raise self.error(
                f"output size {list(out)} is not positive for input {list(x.shape[2:])}: the effective kernel "
                f"{k_eff} is larger than the input plus pads {list(self.pads or ())}; pad more or use a smaller kernel"
            )
        return [TensorType((x.shape[0], self.out_channels, *out), x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        from ...reference.convolution import conv

        (x,) = inputs
        assert self.strides is not None and self.dilations is not None and self.pads is not None
        y = conv(
            x,
            self.weight_array(types[0].shape[1], x.dtype),
            self.bias_array(x.dtype),
            strides=self.strides,
            pads=self.pads,
            dilations=self.dilations,
            group=self.group,
        )
        return [y]
