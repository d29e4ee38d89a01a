"""ONNX facet of ``Identity``: written as an inference ``Dropout`` (data input only); read from ``Dropout`` at
inference (opset >= 12: ``training_mode`` absent or constant false; the ``mask`` output unused)."""

from __future__ import annotations

import numpy as np

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import Identity

OP_TYPES = ("Dropout",)


def write(layer: Identity, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    ctx.add_node("Dropout", [layer.input], [layer.output], name=layer.name)


def read(node: OnnxNode) -> Identity:
    """A ``Dropout`` that runs at inference: a copy of its data input."""
    if node.opset < 12 and node.attr("is_test", 1) == 0:
        raise node.error("is_test 0 is training mode (random); convertkit converts inference Dropout only")
    if node.opset >= 12 and node.has_input(2):
        training = np.asarray(node.constant(2, "training_mode"))
        if training.size != 1 or bool(training.ravel()[0]):
            raise node.error(
                f"training_mode is {training.tolist()}: a training Dropout is random; convertkit converts inference "
                "Dropout only — set training_mode false or drop the input"
            )
    if len(node.output_names) > 1 and node.output_names[1]:
        raise node.error(
            f"its mask output {node.output_names[1]!r} is used; at inference the mask is all true, but convertkit "
            "has no layer that makes it — drop the mask output"
        )
    return Identity(name=node.name, input=node.value(0), output=node.output_names[0])


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Identity] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
