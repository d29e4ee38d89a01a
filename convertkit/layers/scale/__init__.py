"""``Scale``: Caffe's Scale (learned or run-time scale from an axis, optional bias); ONNX Mul (+ Add)."""

from ...registry import LayerKind, register
from .core import Scale

__all__ = ["Scale", "KIND"]

KIND = register(LayerKind(layer=Scale, package=__name__, facets=("onnx", "caffe")))
