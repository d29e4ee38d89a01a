"""``Softmax``: softmax along one axis (ONNX Softmax, opset >= 13 meaning; Caffe Softmax)."""

from ...registry import LayerKind, register
from .core import Softmax

__all__ = ["Softmax", "KIND"]

KIND = register(LayerKind(layer=Softmax, package=__name__, facets=("onnx", "caffe")))
