"""``Exp``: ``base ^ (shift + scale * x)`` as Caffe computes it (Caffe Exp; ONNX Exp)."""

from ...registry import LayerKind, register
from .core import Exp

__all__ = ["Exp", "KIND"]

KIND = register(LayerKind(layer=Exp, package=__name__, facets=("onnx", "caffe")))
