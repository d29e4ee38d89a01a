"""``Activation``: the parameter-light elementwise functions (ReLU / leaky ReLU, Sigmoid, TanH, ELU, AbsVal)."""

from ...registry import LayerKind, register
from .core import FUNCTIONS, Activation

__all__ = ["Activation", "FUNCTIONS", "KIND"]

KIND = register(LayerKind(layer=Activation, package=__name__, facets=("onnx", "caffe", "keras")))
