"""``Flatten``: Caffe's Flatten (axis..end_axis into one); ONNX Flatten where it is the same, else Reshape."""

from ...registry import LayerKind, register
from . import caffe, onnx
from .core import Flatten

__all__ = ["Flatten", "KIND"]

KIND = register(LayerKind(layer=Flatten, onnx=onnx.FACET, caffe=caffe.FACET))
