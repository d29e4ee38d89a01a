"""``LRN``: local response normalisation (ONNX LRN; Caffe LRN across or within channels)."""

from ...registry import LayerKind, register
from .core import LRN, NORM_REGIONS

__all__ = ["LRN", "NORM_REGIONS", "KIND"]

KIND = register(LayerKind(layer=LRN, package=__name__, facets=("onnx", "caffe")))
