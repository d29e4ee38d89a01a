"""``Exp``: ``base ^ (shift + scale * x)`` as Caffe computes it (Caffe Exp; ONNX Exp)."""

from ...registry import LayerKind, register
from . import caffe, onnx
from .core import Exp

__all__ = ["Exp", "KIND"]

KIND = register(LayerKind(layer=Exp, onnx=onnx.FACET, caffe=caffe.FACET))
