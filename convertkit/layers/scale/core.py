"""``Scale``: Caffe's Scale — ``y = x * s [+ b]``, ``s`` broadcast over ``x`` from axis ``axis`` on.

Caffe's rules (``src/caffe/layers/scale_layer.cpp``):

* one bottom: ``s`` is a learned blob of shape ``x.shape[axis : axis + num_axes]`` (``num_axes`` -1: every axis
  from ``axis`` on; 0: a scalar); its default filler is the constant 1;
* two bottoms: the second bottom is ``s`` at run time, and *its* shape decides the axes (``num_axes`` is not
  read): ``x.shape[axis : axis + s.ndim]`` must equal ``s.shape`` (a 0-axis ``s`` is a scalar);
* ``bias_term``: an internal Bias layer with the same axis and ``num_axes`` (two bottoms: ``s.ndim``) adds ``b`` of
  ``s``'s shape; its default filler is the constant 0.

``axis`` is kept as written (negative counts from the end, Caffe's CanonicalAxisIndex).  ONNX: ``Mul`` (+ ``Add``)
by a constant of ``s``'s shape followed by ones for the trailing axes (ONNX broadcasts from the right).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...fillers import Filler, Values, WeightSource
from ...ir import Layer, TensorType
from .._fields import check_name, is_int
from .._training import TrainingSpec
from ..deconvolution.core import checked_training

__all__ = ["Scale", "scale_axes"]


def scale_axes(axis: int, num_axes: int, rank: int) -> tuple[int, int] | str:
    """``(first axis, number of axes)`` of the scale in an input of ``rank``, or why they do not fit."""
    if not -rank <= axis < rank:
        return f"axis {axis} is out of range for an input of rank {rank} (Caffe's CanonicalAxisIndex)"
    first = axis % rank
    n = rank - first if num_axes == -1 else num_axes
    if first + n > rank:
        return (
            f"num_axes {num_axes} from axis {axis} reaches axis {first + n - 1}, past the input's rank {rank} "
            "(Caffe: scale blob's shape extends past bottom[0]'s shape)"
        )
    return first, n


def _check_source(layer: Scale, what: str, source: Any) -> None:
    if not isinstance(source, (Filler, Values)):
        raise layer.error(f"{what} must be a Filler or Values, got {type(source).__name__}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Scale(TrainingSpec, Layer):
    """``input_names[0] * scale [+ bias]``; ``scale`` is a blob (one input) or ``input_names[1]`` (two inputs)."""

    kind: ClassVar[str] = "Scale"
    spatially_pointwise: ClassVar[bool] = True
    name: str
    input_names: tuple[str, ...]
    output: str = ""
    axis: int = 1
    num_axes: int = 1
    scale: WeightSource | None = None
    bias: WeightSource | None = None

    def __post_init__(self) -> None:
        self._normalise_meta()
        check_name(self.kind, self.name)
        names = tuple(self.input_names)
        if len(names) not in (1, 2):
            raise self.error(f"takes one input (a learned scale) or two (the second is the scale), got {len(names)}")
        for n in names:
            check_name(self.kind, n, "input")
        object.__setattr__(self, "input_names", names)
        if not self.output:
            object.__setattr__(self, "output", self.name)
        check_name(self.kind, self.output, "output")
        for fname in ("axis", "num_axes"):
            if not is_int(getattr(self, fname)):
                raise self.error(f"{fname} must be an integer, got {getattr(self, fname)!r}")
            object.__setattr__(self, fname, int(getattr(self, fname)))
        if self.num_axes < -1:
            raise self.error(
                f"num_axes must be >= -1 (-1: every axis from axis on), got {self.num_axes} (Caffe's CHECK)"
            )
        if len(names) == 1:
            if self.scale is None:
                raise self.error("one input needs a scale blob (Filler or Values); or give the scale as a 2nd input")
            _check_source(self, "scale", self.scale)
        else:
            if self.scale is not None:
                raise self.error("with two inputs the second input is the scale; drop the scale blob")
            if self.num_axes != 1:
                raise self.error(
                    f"num_axes {self.num_axes} with two inputs: Caffe ignores it (the second input's shape decides "
                    "the axes); leave it at 1"
                )
        if self.bias is not None:
            _check_source(self, "bias", self.bias)
        for what in ("scale", "bias"):
            source = getattr(self, what)
            if isinstance(source, Filler) and source.type == "bilinear" and source is not None:
                raise self.error(f"the bilinear filler fills deconvolution kernels, not a {what}")
        shapes = {tuple(s.array.shape) for s in (self.scale, self.bias) if isinstance(s, Values)}
        if len(shapes) > 1:
            raise self.error(f"scale and bias need one shape, got {sorted(shapes)}")
        checked_training(self, ("scale", "bias") if len(names) == 1 else ("bias",))  # type: ignore[arg-type]

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.input_names

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    @property
    def input(self) -> str:
        return self.input_names[0]

    def placement(self, inputs: list[TensorType]) -> tuple[int, tuple[int, ...]]:
        """``(first axis, scale shape)`` for these inputs; raises the layer's error when Caffe would refuse."""
        x = inputs[0]
        rank = len(x.shape)
        if len(inputs) == 2:
            s = inputs[1]
            if s.dtype != x.dtype:
                raise self.error(f"the scale input is {s.dtype}, the input {x.dtype}; Scale needs one type")
            if not s.shape:
                return 0, ()  # a scalar: Caffe sets axis_ = 0
            got = scale_axes(self.axis, len(s.shape), rank)
        else:
            got = scale_axes(self.axis, self.num_axes, rank)
        if isinstance(got, str):
            raise self.error(got)
        first, n = got
        shape = tuple(x.shape[first : first + n])
        if len(inputs) == 2 and tuple(inputs[1].shape) != shape:
            raise self.error(
                f"the scale input {self.input_names[1]!r} has shape {list(inputs[1].shape)}; from axis {self.axis} "
                f"the input {list(x.shape)} needs {list(shape)} (Caffe: dimension mismatch)"
            )
        for what in ("scale", "bias"):
            source = getattr(self, what)
            if isinstance(source, Values) and tuple(source.array.shape) != shape:
                raise self.error(
                    f"{what} has shape {list(source.array.shape)}; from axis {self.axis} with num_axes "
                    f"{self.num_axes} the input {list(x.shape)} needs {list(shape)}"
                )
        return first, shape

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        self.placement(inputs)
        return [inputs[0]]

    def broadcast_shape(self, inputs: list[TensorType]) -> tuple[int, ...]:
        """The scale's shape padded with ones after it: how ONNX (right-aligned) broadcasts it the same way."""
        first, shape = self.placement(inputs)
        rank = len(inputs[0].shape)
        return shape + (1,) * (rank - first - len(shape)) if shape else ()

    def parameter_shapes(self, inputs: list[TensorType]) -> list[tuple[int, ...]]:
        _, shape = self.placement(inputs)
        return [shape] * ((self.scale is not None) + (self.bias is not None))

    def scale_array(self, inputs: list[TensorType], dtype: Any = np.float32) -> np.ndarray:
        assert self.scale is not None
        return self.scale.materialize(self.placement(inputs)[1], dtype)

    def bias_array(self, inputs: list[TensorType], dtype: Any = np.float32) -> np.ndarray | None:
        return None if self.bias is None else self.bias.materialize(self.placement(inputs)[1], dtype)

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        x = inputs[0]
        shape = self.broadcast_shape(types)
        s = inputs[1] if len(inputs) == 2 else self.scale_array(types, x.dtype)
        y = x * s.astype(x.dtype).reshape(shape)
        b = self.bias_array(types, x.dtype)
        if b is not None:
            y = y + b.reshape(shape)
        return [y]
