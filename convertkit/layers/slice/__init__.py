"""``Slice``: Split along one axis at slice points (ONNX Split, Caffe Slice)."""

from ...registry import LayerKind, register
from .core import Slice

__all__ = ["Slice", "KIND"]

KIND = register(LayerKind(layer=Slice, package=__name__, facets=("onnx", "caffe")))
