"""``Concat``: Concatenation along one axis (ONNX Concat, Caffe Concat; a one-input Concat is a copy)."""

from ...registry import LayerKind, register
from .core import Concat

__all__ = ["Concat", "KIND"]

KIND = register(LayerKind(layer=Concat, package=__name__, facets=("onnx", "caffe", "keras")))
