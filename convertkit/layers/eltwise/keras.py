"""Keras facet of ``Eltwise``: ``Add`` (sum), ``Multiply`` (prod), ``Maximum`` (max), ``Average`` (sum with
coefficients ``1 / n``) of same-shaped tensors."""

from __future__ import annotations

from ...codec.keras import KerasLayer
from ...ir import Layer
from ...registry import KerasFacet
from .core import Eltwise

CLASS_NAMES = ("Add", "Multiply", "Maximum", "Average")
_OPS = {"Add": "sum", "Multiply": "prod", "Maximum": "max", "Average": "sum"}


def read(layer: KerasLayer) -> list[Layer]:
    if len({t.shape for t in layer.in_types}) != 1:
        raise layer.error(
            f"inputs have shapes {[list(t.shape) for t in layer.in_types]}; convertkit's Eltwise does not broadcast"
        )
    n = len(layer.inputs)
    coeff = (1.0 / n,) * n if layer.class_name == "Average" else ()
    return [
        Eltwise(
            name=layer.name,
            input_names=tuple(layer.inputs),
            output=layer.output,
            operation=_OPS[layer.class_name],
            coeff=coeff,
        )
    ]


#: This kind's Keras facet, registered in the package's ``__init__``.
FACET: KerasFacet[Eltwise] = KerasFacet(class_names=CLASS_NAMES, read=read)
