"""``Transpose``: a permutation of the axes (a layout change at a channels-last model's boundary)."""

from ...registry import LayerKind, register
from .core import Transpose

__all__ = ["Transpose", "KIND"]

KIND = register(LayerKind(layer=Transpose, package=__name__, facets=("onnx", "keras")))
