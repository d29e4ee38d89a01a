"""``Concat``: Concatenation along one axis (ONNX Concat, Caffe Concat; a one-input Concat is a copy)."""

from ...registry import LayerKind, register
from . import caffe, keras, onnx
from .core import Concat

__all__ = ["Concat", "KIND"]

KIND = register(LayerKind(layer=Concat, onnx=onnx.FACET, caffe=caffe.FACET, keras=keras.FACET))
