"""``Input``: The graph input: a value fed at run time, with its shape and dtype."""

from ...registry import LayerKind, register
from .core import Input

__all__ = ["Input", "KIND"]

KIND = register(LayerKind(layer=Input, package=__name__, facets=("onnx", "caffe", "keras")))
