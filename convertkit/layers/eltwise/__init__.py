"""``Eltwise``: elementwise sum (with coefficients), product or maximum of run-time tensors of one shape."""

from ...registry import LayerKind, register
from .core import OPERATIONS, Eltwise

__all__ = ["Eltwise", "OPERATIONS", "KIND"]

KIND = register(LayerKind(layer=Eltwise, package=__name__, facets=("onnx", "caffe", "keras")))
