"""``Input``: a graph input with a fixed shape and element type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ...errors import ValidationError
from ...ir import DTYPES, Layer, TensorType
from .._fields import check_name, int_tuple

__all__ = ["Input"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Input(Layer):
    """A graph input ``name`` of ``shape`` (N, C, spatial...) and ``dtype``."""

    kind: ClassVar[str] = "Input"
    graph_input: ClassVar[bool] = True
    name: str
    shape: tuple[int, ...] = field(metadata={"schema": {"minimum": 1}})
    dtype: str = field(default="float32", metadata={"schema": {"enum": list(DTYPES)}})

    def __post_init__(self) -> None:
        self._normalise_meta()
        check_name(self.kind, self.name)
        shape = int_tuple(self.name, self.kind, "shape", self.shape)
        if any(d < 1 for d in shape):
            raise self.error(f"shape dimensions must be positive, got {list(shape)}")
        if self.dtype not in DTYPES:
            raise self.error(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        object.__setattr__(self, "shape", shape)

    @property
    def inputs(self) -> tuple[str, ...]:
        return ()

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.name,)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        return [TensorType(self.shape, self.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        raise ValidationError(f"layer {self.name!r} (Input) has no computation; the interpreter feeds it")
