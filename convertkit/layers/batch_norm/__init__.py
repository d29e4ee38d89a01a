"""``BatchNorm``: inference batch normalisation (Caffe BatchNorm [+ Scale], ONNX BatchNormalization)."""

from ...registry import LayerKind, register
from .core import BatchNorm

__all__ = ["BatchNorm", "KIND"]

KIND = register(LayerKind(layer=BatchNorm, package=__name__, facets=("onnx", "caffe", "keras")))
