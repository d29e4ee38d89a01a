"""``Softmax``: softmax along one axis (ONNX Softmax, opset >= 13 meaning; Caffe Softmax)."""

from ...registry import LayerKind, register
from . import caffe, onnx
from .core import Softmax

__all__ = ["Softmax", "KIND"]

KIND = register(LayerKind(layer=Softmax, onnx=onnx.FACET, caffe=caffe.FACET))
