"""``Input``: The graph input: a value fed at run time, with its shape and dtype."""

from ...registry import LayerKind, register
from . import caffe, keras, onnx
from .core import Input

__all__ = ["Input", "KIND"]

KIND = register(LayerKind(layer=Input, onnx=onnx.FACET, caffe=caffe.FACET, keras=keras.FACET))
