"""``Concat``: join ``input_names`` along ``axis`` (every other axis equal).  ONNX and Caffe: ``Concat``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..ir import Layer, TensorType, register_layer
from ._fields import check_name, layer_schema

__all__ = ["Concat"]


@register_layer
@dataclass(frozen=True, slots=True, kw_only=True)
class Concat(Layer):
    """Concatenate ``input_names`` along ``axis`` (negative axes count from the end) into ``output``."""

    kind: ClassVar[str] = "Concat"
    name: str
    input_names: tuple[str, ...]
    output: str = ""
    axis: int = 1

    def __post_init__(self) -> None:
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

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "name": self.name, "input_names": list(self.input_names)}
        if self.output != self.name:
            out["output"] = self.output
        if self.axis != 1:
            out["axis"] = self.axis
        return out

    @classmethod
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Concat:
        return cls(
            name=spec["name"],
            input_names=tuple(spec["input_names"]),
            output=spec.get("output", ""),
            axis=spec.get("axis", 1),
        )

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        return layer_schema(
            cls.kind,
            {
                "input_names": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                "output": True,
                "axis": {"type": "integer"},
            },
            required=["input_names"],
        )

    def to_onnx(self, ctx: Any, types: list[TensorType]) -> None:
        ctx.add_node(
            "Concat", list(self.input_names), [self.output], name=self.name, axis=self._axis(len(types[0].shape))
        )

    # -- Caffe ----------------------------------------------------------------------------------------------------
    caffe_types: ClassVar[tuple[str, ...]] = ("Concat",)

    def to_caffe(self, ctx: Any, types: list[TensorType]) -> None:
        if len(self.input_names) == 1:
            # A one-bottom Concat is a copy; OpenCV runs it as garbage, so it is written as Caffe's copy, Split
            # (read back as this layer when its top is a net output, else as the blob itself).
            ctx.add_layer(self.name, "Split", list(self.input_names), [self.output])
            return
        layer = ctx.add_layer(self.name, "Concat", list(self.input_names), [self.output])
        layer.concat_param.axis = self.axis

    @classmethod
    def from_caffe(
        cls, lp: Any, ctx: Any, inputs: list[str], outputs: list[str], in_types: list[TensorType]
    ) -> list[Layer]:
        from ..errors import FormatError

        if len(outputs) != 1 or not inputs:
            raise FormatError(f"layer {lp.name!r} (Concat): needs bottoms and exactly one top")
        p = lp.concat_param
        axis = p.axis if p.HasField("axis") or not p.HasField("concat_dim") else p.concat_dim
        return [cls(name=lp.name, input_names=tuple(inputs), output=outputs[0], axis=axis)]

    # -- ONNX import ----------------------------------------------------------------------------------------------
    onnx_op_types: ClassVar[tuple[str, ...]] = ("Concat",)

    @classmethod
    def from_onnx(cls, node: Any) -> Concat:
        """Build from an ONNX ``Concat`` of run-time tensors (``node``: an ``onnx_import.OnnxNode``).

        A Concat of constants never gets here: the importer evaluates it (shape arithmetic).
        """
        if node.attr("axis") is None:
            raise node.error("Concat needs the axis attribute")
        names = tuple(node.value(i) for i in range(len(node.input_names)) if node.has_input(i))
        return cls(name=node.name, input_names=names, output=node.output_names[0], axis=int(node.attr("axis")))
