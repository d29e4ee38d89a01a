"""``Activation``: the parameter-light elementwise functions (ReLU / leaky ReLU, Sigmoid, TanH, ELU, AbsVal)."""

from ...registry import LayerKind, register
from . import caffe, keras, onnx
from .core import FUNCTIONS, Activation

__all__ = ["Activation", "FUNCTIONS", "KIND"]

KIND = register(LayerKind(layer=Activation, onnx=onnx.FACET, caffe=caffe.FACET, keras=keras.FACET))
