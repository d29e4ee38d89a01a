"""``PReLU``: leaky ReLU with a learned slope per channel (or one shared), ONNX PRelu, Caffe PReLU."""

from ...registry import LayerKind, register
from .core import PReLU

__all__ = ["PReLU", "KIND"]

KIND = register(LayerKind(layer=PReLU, package=__name__, facets=("onnx", "caffe")))
