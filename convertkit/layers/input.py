"""``Input``: a graph input with a fixed shape and element type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ValidationError
from ..ir import DTYPES, Layer, TensorType, register_layer
from ._fields import check_name, int_array_schema, int_tuple, layer_schema

__all__ = ["Input"]


@register_layer
@dataclass(frozen=True, slots=True, kw_only=True)
class Input(Layer):
    """A graph input ``name`` of ``shape`` (N, C, spatial...) and ``dtype``."""

    kind: ClassVar[str] = "Input"
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"

    def __post_init__(self) -> None:
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

    # -- Caffe ----------------------------------------------------------------------------------------------------
    caffe_types: ClassVar[tuple[str, ...]] = ("Input",)

    def to_caffe(self, ctx: Any, types: list[TensorType]) -> None:
        """``layer { type: "Input" input_param { shape { dim: ... } } }``."""
        layer = ctx.add_layer(self.name, "Input", [], [self.name])
        layer.input_param.shape.add().dim.extend(self.shape)

    @classmethod
    def from_caffe(
        cls, lp: Any, ctx: Any, inputs: list[str], outputs: list[str], in_types: list[TensorType]
    ) -> list[Layer]:
        """One :class:`Input` per top; ``input_param`` has one shape for all tops or one per top."""
        from ..errors import FormatError

        shapes = [tuple(int(d) for d in s.dim) for s in lp.input_param.shape]
        if len(shapes) not in (1, len(outputs)):
            raise FormatError(
                f"layer {lp.name!r} (Input): input_param has {len(shapes)} shape(s) for {len(outputs)} top(s); "
                "give one shape, or one per top"
            )
        return [cls(name=top, shape=shapes[i if len(shapes) > 1 else 0]) for i, top in enumerate(outputs)]

    def to_onnx(self, ctx: Any, types: list[TensorType]) -> None:
        ctx.add_graph_input(self.name, TensorType(self.shape, self.dtype))
