"""``Slice``: Split along one axis at slice points (ONNX Split, Caffe Slice)."""

from ...registry import LayerKind, register
from . import caffe, onnx
from .core import Slice

__all__ = ["Slice", "KIND"]

KIND = register(LayerKind(layer=Slice, onnx=onnx.FACET, caffe=caffe.FACET))
