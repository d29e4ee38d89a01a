"""``Pooling``: MAX and AVE pooling over the spatial axes, with Caffe's and ONNX's sizes and divisors both exact.

One window model serves both formats: along each spatial axis, output ``o`` pools the taps
``o * stride - pad_begin + j * dilation`` (``j < kernel``) that fall on the input.  Fields use ONNX names
(``kernel_shape``, ``strides``, ``pads`` (begin..., end...), ``dilations``, ``ceil_mode``, ``count_include_pad``);
:mod:`convertkit.reference.pooling` holds the kernels and the Caffe <-> ONNX rule this kind relies on.

Caffe's Pooling *is* ONNX's with ``pads = (pad, pad)``, ``ceil_mode`` (``round_mode: CEIL``, or off for
``FLOOR``) and ``count_include_pad`` (AVE counts padded cells up to ``in + pad``, not the ceil overhang past it),
with one exception: a Caffe layer without any pad keeps a last window that starts past the input (``stride >
kernel``) and pools it empty (MAX ``-FLT_MAX``, AVE ``0 / size <= 0``), where ONNX drops it.  ``convention``
says which of the two rules sizes the output; it is ``caffe`` only where the rules can differ (no pads,
``ceil_mode``, some stride larger than its kernel) and normalised to ``onnx`` everywhere else, so that every
meaning has one IR value.  Likewise ``count_include_pad`` is kept only where it changes a result (average with
pads), and a global pooling (``global_pooling``: the kernel is the whole input) takes no geometry at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ... import shapes
from ...coord_map import CoordMap, filter_map
from ...ir import TensorType, UnaryLayer
from .._fields import int_tuple

__all__ = ["Pooling", "POOLING_METHODS", "POOLING_CONVENTIONS"]

POOLING_METHODS: tuple[str, ...] = ("max", "average")
POOLING_CONVENTIONS: tuple[str, ...] = ("onnx", "caffe")


@dataclass(frozen=True, slots=True, kw_only=True)
class Pooling(UnaryLayer):
    """Pool ``input`` by ``method`` over windows of ``kernel_shape`` (or the whole input: ``global_pooling``).

    - ``method``: ``max`` (padding never wins) or ``average`` (the window sum over the input cells, divided by
      the taps inside ``[0, in)``, or with ``count_include_pad`` inside ``[-pad_begin, in + pad_end)``).
    - ``kernel_shape``, ``strides``, ``dilations`` (one per spatial axis), ``pads`` (begin..., end...; each pad
      smaller than its kernel, as Caffe and onnxruntime require).
    - ``ceil_mode``: sizes round up, ``ceil((in + pads - k_eff) / s) + 1``, and a last window starting at or past
      ``in + pad_begin`` is dropped; otherwise they round down.
    - ``convention``: ``onnx`` (the drop rule above always applies) or ``caffe`` (an unpadded Caffe layer keeps
      that window and pools it empty); ``caffe`` is kept only for unpadded, ``ceil_mode`` layers with a stride
      larger than its kernel, where the two can differ, and implies dilations 1.
    - ``global_pooling``: the kernel is the input's spatial size, no strides, pads or dilations (ONNX
      GlobalMaxPool / GlobalAveragePool, Caffe ``global_pooling: true``).
    """

    kind: ClassVar[str] = "Pooling"
    method: str = field(default="max", metadata={"schema": {"enum": list(POOLING_METHODS)}})
    kernel_shape: tuple[int, ...] | None = field(default=None, metadata={"schema": {"minimum": 1}})
    strides: tuple[int, ...] = field(default=(), metadata={"schema": {"minimum": 1}, "per_axis_default": 1})
    pads: tuple[int, ...] = field(default=(), metadata={"schema": {"minimum": 0}, "per_axis_default": 0})
    dilations: tuple[int, ...] = field(default=(), metadata={"schema": {"minimum": 1}, "per_axis_default": 1})
    ceil_mode: bool = False
    count_include_pad: bool = False
    global_pooling: bool = False
    convention: str = field(default="onnx", metadata={"schema": {"enum": list(POOLING_CONVENTIONS)}})
    #: The argmax mask's value name ("": none): Caffe's second top, ONNX MaxPool's Indices.
    indices: str = ""

    def __post_init__(self) -> None:
        self._check_io()
        self._check_indices()
        if self.method not in POOLING_METHODS:
            raise self.error(
                f"method must be one of {', '.join(POOLING_METHODS)}, got {self.method!r} "
                "(Caffe's STOCHASTIC pooling has no inference rule)"
            )
        if self.convention not in POOLING_CONVENTIONS:
            raise self.error(f"convention must be one of {', '.join(POOLING_CONVENTIONS)}, got {self.convention!r}")
        for fname in ("ceil_mode", "count_include_pad", "global_pooling"):
            if not isinstance(getattr(self, fname), (bool, np.bool_)):
                raise self.error(f"{fname} must be true or false, got {getattr(self, fname)!r}")
            object.__setattr__(self, fname, bool(getattr(self, fname)))
        if self.count_include_pad and self.method == "max":
            raise self.error("count_include_pad applies to method average only (a max ignores padding)")
        if self.global_pooling:
            self._check_global()
            return
        if self.kernel_shape is None:
            raise self.error("kernel_shape is required unless global_pooling")
        kernel = int_tuple(self.name, self.kind, "kernel_shape", self.kernel_shape)
        n = len(kernel)
        if n < 1 or any(k < 1 for k in kernel):
            raise self.error(f"kernel_shape must list one size >= 1 per spatial axis, got {list(kernel)}")
        strides = int_tuple(self.name, self.kind, "strides", self.strides or (1,) * n, n)
        dilations = int_tuple(self.name, self.kind, "dilations", self.dilations or (1,) * n, n)
        pads = int_tuple(self.name, self.kind, "pads (begin..., end...)", self.pads or (0,) * (2 * n), 2 * n)
        for fname, values, low in (("strides", strides, 1), ("dilations", dilations, 1), ("pads", pads, 0)):
            if any(v < low for v in values):
                raise self.error(f"{fname} must be >= {low}, got {list(values)}")
        if any(p >= k for p, k in zip(pads, kernel + kernel, strict=True)):
            raise self.error(
                f"pads {list(pads)} must each be smaller than the kernel {list(kernel)} (Caffe and onnxruntime "
                "refuse a window of padding only)"
            )
        object.__setattr__(self, "kernel_shape", kernel)
        object.__setattr__(self, "strides", strides)
        object.__setattr__(self, "dilations", dilations)
        object.__setattr__(self, "pads", pads)
        if self.convention == "caffe":
            if pads[:n] != pads[n:]:
                raise self.error(f"convention caffe pads symmetrically; pads {list(pads)} are asymmetric")
            if any(d != 1 for d in dilations):
                raise self.error(f"convention caffe has no dilations, got {list(dilations)}")
            # Caffe AVE counts the padded cells (up to in + pad): count_include_pad.
            object.__setattr__(self, "count_include_pad", self.method == "average")
            if any(pads) or not self.ceil_mode or all(s <= k for s, k in zip(strides, kernel, strict=True)):
                object.__setattr__(self, "convention", "onnx")  # the two rules agree here: one IR value
        if not any(pads):
            object.__setattr__(self, "count_include_pad", False)  # no padded cell to count

    def _check_indices(self) -> None:
        if not isinstance(self.indices, str):
            raise self.error(f"indices must be a value name (a string) or empty, got {self.indices!r}")
        if not self.indices:
            return
        if self.method != "max":
            raise self.error("indices (the argmax mask) needs method max; an average has no argmax")
        if self.global_pooling:
            raise self.error(
                "indices with global_pooling: give kernel_shape = the input's spatial size instead (ONNX's "
                "GlobalMaxPool has no Indices output)"
            )
        if self.indices == self.output:
            raise self.error(f"indices and output must be different values, both are {self.output!r}")

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output, self.indices) if self.indices else (self.output,)

    def _check_global(self) -> None:
        given = [
            f"{fname} {list(v) if isinstance(v, tuple) else v}"
            for fname, v in (
                ("kernel_shape", self.kernel_shape),
                ("strides", self.strides),
                ("pads", self.pads),
                ("dilations", self.dilations),
            )
            if v is not None and v != ()
        ]
        if self.ceil_mode:
            given.append("ceil_mode")
        if given:
            raise self.error(
                f"global_pooling takes its kernel from the input and no geometry, got {', '.join(given)}; drop them"
            )
        object.__setattr__(self, "count_include_pad", False)
        object.__setattr__(self, "convention", "onnx")

    # -- geometry -------------------------------------------------------------------------------------------------

    @property
    def spatial_rank(self) -> int | None:
        """Spatial axes of the layer (None for global pooling, which takes any)."""
        return None if self.kernel_shape is None else len(self.kernel_shape)

    @property
    def padded(self) -> bool:
        return any(self.pads)

    def coord_map(self, inputs: list[TensorType]) -> CoordMap | None:
        """A filter's map (:func:`convertkit.coord_map.filter_map`); global pooling has none (one cell of all)."""
        if self.kernel_shape is None:
            return None
        n = len(self.kernel_shape)
        return filter_map(self.kernel_shape, self.strides, self.pads[:n], self.dilations)

    def output_spatial(self, in_spatial: tuple[int, ...]) -> tuple[int, ...]:
        """The output's spatial sizes on an input of ``in_spatial`` (Caffe's or ONNX's rule, see ``convention``)."""
        if self.kernel_shape is None:
            return (1,) * len(in_spatial)
        n = len(self.kernel_shape)
        if self.convention == "caffe":
            return tuple(
                shapes.caffe_pool_output_size(in_spatial[a], self.kernel_shape[a], self.strides[a], 0, "CEIL", False)
                for a in range(n)
            )
        return tuple(
            shapes.onnx_pool_output_size(
                in_spatial[a],
                self.kernel_shape[a],
                self.strides[a],
                self.pads[a],
                self.pads[n + a],
                self.dilations[a],
                int(self.ceil_mode),
            )
            for a in range(n)
        )

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        if self.kernel_shape is None:
            (x,) = inputs
            if len(x.shape) < 3:
                raise self.error(f"global pooling needs (N, C, spatial...), input {self.input!r} has {list(x.shape)}")
        else:
            x = self.spatial_input(inputs, len(self.kernel_shape), f"kernel_shape {list(self.kernel_shape)} needs")
        out = self.output_spatial(x.shape[2:])
        if any(o < 1 for o in out):
            rounding = "ceil" if self.ceil_mode else "floor"
            raise self.error(
                f"output size {list(out)} is not positive for input {list(x.shape[2:])}: {rounding}((in + pads - "
                f"dilation * (kernel - 1) - 1) / stride) + 1 with kernel {list(self.kernel_shape or ())} pads "
                f"{list(self.pads)}; use ceil_mode or a smaller kernel"
            )
        pooled = TensorType((*x.shape[:2], *out), x.dtype)
        plane = int(np.prod(x.shape[2:]))
        if self.indices and plane > 2**24 and x.dtype == "float32":
            raise self.error(
                f"the mask holds plane indices as floats; a plane of {plane} cells (input {list(x.shape)}) passes "
                "2**24, where float32 stops holding every whole number; use float64"
            )
        return [pooled, pooled] if self.indices else [pooled]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        from ...reference import pooling as ref

        (x,) = inputs
        if self.global_pooling:
            return [ref.global_max_pool(x) if self.method == "max" else ref.global_average_pool(x)]
        assert self.kernel_shape is not None
        if self.indices:
            return self._reference_with_mask(x)
        if self.convention == "caffe":
            pool = "MAX" if self.method == "max" else "AVE"
            return [ref.caffe_pool(x, pool=pool, kernel_shape=self.kernel_shape, strides=self.strides)]
        common: dict[str, Any] = {
            "kernel_shape": self.kernel_shape,
            "strides": self.strides,
            "pads": self.pads,
            "dilations": self.dilations,
            "ceil_mode": int(self.ceil_mode),
        }
        if self.method == "max":
            return [ref.max_pool(x, **common)]
        return [ref.average_pool(x, **common, count_include_pad=int(self.count_include_pad))]

    def _reference_with_mask(self, x: np.ndarray) -> list[np.ndarray]:
        """Values and the argmax mask: per ``(n, c)`` plane, ``h * W + w`` of the first maximum in scan order (Caffe
        pooling_layer.cpp's strict ``>`` over the window, row-major; onnxruntime's MaxPool picks the same cell),
        stored as floats as Caffe's top holds it; -1 for an empty window."""
        from ...reference import pooling as ref

        assert self.kernel_shape is not None
        if self.convention == "caffe":
            pooled, mask = ref.caffe_max_pool_with_mask(x, kernel_shape=self.kernel_shape, strides=self.strides)
        else:
            pooled, flat = ref.max_pool_with_indices(
                x,
                kernel_shape=self.kernel_shape,
                strides=self.strides,
                pads=self.pads,
                dilations=self.dilations,
                ceil_mode=int(self.ceil_mode),
            )
            mask = ref.onnx_indices_to_caffe_mask(flat, x.shape)
        return [pooled, mask.astype(x.dtype)]
