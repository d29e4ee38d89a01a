"""``InnerProduct``: Caffe's fully connected layer (axis, transpose, bias_term); ONNX Gemm / MatMul."""

from ...registry import LayerKind, register
from .core import InnerProduct

__all__ = ["InnerProduct", "KIND"]

KIND = register(LayerKind(layer=InnerProduct, package=__name__, facets=("onnx", "caffe")))
