"""``Reshape``: Caffe's Reshape (0 copy, -1 infer, axis, num_axes); ONNX Reshape with a constant shape."""

from ...registry import LayerKind, register
from .core import Reshape

__all__ = ["Reshape", "KIND"]

KIND = register(LayerKind(layer=Reshape, package=__name__, facets=("onnx", "caffe")))
