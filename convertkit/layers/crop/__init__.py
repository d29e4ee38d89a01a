"""``Crop``: Crop to a reference blob's shape (Caffe Crop) or to an explicit offset and shape (ONNX Slice)."""

from ...registry import LayerKind, register
from .core import Crop

__all__ = ["Crop", "KIND"]

KIND = register(LayerKind(layer=Crop, package=__name__, facets=("onnx", "caffe", "keras")))
