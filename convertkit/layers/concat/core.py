"""``Concat``: join ``input_names`` along ``axis`` (every other axis equal).  ONNX and Caffe: ``Concat``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...ir import Layer, TensorType
from .._fields import check_name

__all__ = ["Concat"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Concat(Layer):
    """Concatenate ``input_names`` along ``axis`` (negative axes count from the end) into ``output``."""

    kind: ClassVar[str] = "Concat"
    name: str
    input_names: tuple[str, ...]
    output: str = ""
    axis: int = 1

    def __post_init__(self) -> None:
        self._normalise_meta()
        check_name(self.kind, self.name)
        names = tuple(self.input_names)
        if not names:
            raise self.error("needs at least one input")
        for n in names:
            check_name(self.kind, n, "input")
        object.__setattr__(self, "input_names", names)
        if not self.output:
            object.__setattr__(self, "output", self.name)
        if not isinstance(self.axis, int) or isinstance(self.axis, bool):
            raise self.error(f"axis must be an integer, got {self.axis!r}")

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.input_names

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    def _axis(self, rank: int) -> int:
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 0 <= axis < rank:
            raise self.error(f"axis {self.axis} is out of range for rank {rank}")
        return axis

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        first = inputs[0]
        axis = self._axis(len(first.shape))
        total = 0
        for name, t in zip(self.input_names, inputs, strict=True):
            if len(t.shape) != len(first.shape) or any(
                a != b for i, (a, b) in enumerate(zip(t.shape, first.shape, strict=True)) if i != axis
            ):
                raise self.error(
                    f"input {name!r} has shape {list(t.shape)}; every input must match {list(first.shape)} "
                    f"except on axis {axis}"
                )
            if t.dtype != first.dtype:
                raise self.error(f"input {name!r} is {t.dtype}, the first input {first.dtype}")
            total += t.shape[axis]
        return [TensorType(first.shape[:axis] + (total,) + first.shape[axis + 1 :], first.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        return [np.concatenate(inputs, axis=self._axis(len(types[0].shape)))]
