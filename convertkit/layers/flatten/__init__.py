"""``Flatten``: Caffe's Flatten (axis..end_axis into one); ONNX Flatten where it is the same, else Reshape."""

from ...registry import LayerKind, register
from .core import Flatten

__all__ = ["Flatten", "KIND"]

KIND = register(LayerKind(layer=Flatten, package=__name__, facets=("onnx", "caffe")))
