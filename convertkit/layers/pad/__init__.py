"""``Pad``: zero or edge padding of the spatial axes (ONNX Pad; stock Caffe forms when written)."""

from ...registry import LayerKind, register
from .core import PAD_MODES, Pad

__all__ = ["Pad", "PAD_MODES", "KIND"]

KIND = register(LayerKind(layer=Pad, package=__name__, facets=("onnx", "caffe", "keras")))
