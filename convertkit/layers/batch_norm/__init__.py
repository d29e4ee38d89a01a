"""``BatchNorm``: inference batch normalisation (Caffe BatchNorm [+ Scale], ONNX BatchNormalization)."""

from ...registry import LayerKind, register
from . import caffe, keras, onnx
from .core import BatchNorm

__all__ = ["BatchNorm", "KIND"]

KIND = register(LayerKind(layer=BatchNorm, onnx=onnx.FACET, caffe=caffe.FACET, keras=keras.FACET))
