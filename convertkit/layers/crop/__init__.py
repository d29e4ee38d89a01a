"""``Crop``: Crop to a reference blob's shape (Caffe Crop) or to an explicit offset and shape (ONNX Slice)."""

from ...registry import LayerKind, register
from . import caffe, keras, onnx
from .core import Crop

__all__ = ["Crop", "KIND"]

KIND = register(LayerKind(layer=Crop, onnx=onnx.FACET, caffe=caffe.FACET, keras=keras.FACET))
