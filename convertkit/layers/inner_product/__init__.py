"""``InnerProduct``: Caffe's fully connected layer (axis, transpose, bias_term); ONNX Gemm / MatMul."""

from ...registry import LayerKind, register
from . import caffe, onnx
from .core import InnerProduct

__all__ = ["InnerProduct", "KIND"]

KIND = register(LayerKind(layer=InnerProduct, onnx=onnx.FACET, caffe=caffe.FACET))
