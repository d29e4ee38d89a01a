"""``LRN``: local response normalisation (ONNX LRN; Caffe LRN across or within channels)."""

from ...registry import LayerKind, register
from . import caffe, onnx
from .core import LRN, NORM_REGIONS

__all__ = ["LRN", "NORM_REGIONS", "KIND"]

KIND = register(LayerKind(layer=LRN, onnx=onnx.FACET, caffe=caffe.FACET))
