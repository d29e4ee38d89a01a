"""``Bias``: a per-channel constant added along the channel axis (ONNX Add of a constant, Caffe Bias)."""

from ...registry import LayerKind, register
from .core import Bias

__all__ = ["Bias", "KIND"]

KIND = register(LayerKind(layer=Bias, package=__name__, facets=("onnx", "caffe")))
