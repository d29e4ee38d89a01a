"""Keras facet of ``Transpose``: the layout change at a channels_last model's boundary (``keep_layout="nhwc"``)."""

from __future__ import annotations

from ...ir import Layer
from ...registry import KerasFacet
from .core import Transpose


def layout(name: str, input: str, output: str, perm: tuple[int, ...]) -> Layer:
    return Transpose(name=name, input=input, output=output, perm=perm)


#: This kind's Keras facet, registered in the package's ``__init__``.
FACET: KerasFacet[Transpose] = KerasFacet(layout=layout)
