"""``Identity``: a copy — what a Dropout is at inference (Caffe Dropout, ONNX Dropout)."""

from ...registry import LayerKind, register
from . import caffe, onnx
from .core import Identity

__all__ = ["Identity", "KIND"]

KIND = register(LayerKind(layer=Identity, onnx=onnx.FACET, caffe=caffe.FACET))
