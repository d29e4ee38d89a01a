"""``Identity``: a copy — what a Dropout is at inference (Caffe Dropout, ONNX Dropout)."""

from ...registry import LayerKind, register
from .core import Identity

__all__ = ["Identity", "KIND"]

KIND = register(LayerKind(layer=Identity, package=__name__, facets=("onnx", "caffe")))
