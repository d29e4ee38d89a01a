"""``Input``: a graph input with a fixed shape and element type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...errors import ValidationError
from ...ir import DTYPES, Layer, TensorType
from .._fields import check_name, int_array_schema, int_tuple, layer_schema

__all__ = ["Input"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Input(Layer):
    """A graph input ``name`` of ``shape`` (N, C, spatial...) and ``dtype``."""

    kind: ClassVar[str] = "Input"
    graph_input: ClassVar[bool] = True
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"

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

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "name": self.name, "shape": list(self.shape)}
        if self.dtype != "float32":
            out["dtype"] = self.dtype
        return out

    @classmethod
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Input:
        return cls(name=spec["name"], shape=tuple(spec["shape"]), dtype=spec.get("dtype", "float32"))

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        return layer_schema(
            cls.kind,
            {
                "shape": int_array_schema(1, min_items=1),
                "dtype": {"enum": list(DTYPES)},
            },
            required=["shape"],
        )
