"""``Pooling``: MAX / average pooling with Caffe's and ONNX's sizes (ONNX MaxPool, AveragePool, Global*; Caffe
Pooling)."""

from ...registry import LayerKind, register
from .core import POOLING_CONVENTIONS, POOLING_METHODS, Pooling

__all__ = ["Pooling", "POOLING_METHODS", "POOLING_CONVENTIONS", "KIND"]

KIND = register(LayerKind(layer=Pooling, package=__name__, facets=("onnx", "caffe")))
