"""``Eltwise``: elementwise sum (with coefficients), product or maximum of run-time tensors of one shape."""

from ...registry import LayerKind, register
from . import caffe, keras, onnx
from .core import OPERATIONS, Eltwise

__all__ = ["Eltwise", "OPERATIONS", "KIND"]

KIND = register(LayerKind(layer=Eltwise, onnx=onnx.FACET, caffe=caffe.FACET, keras=keras.FACET))
