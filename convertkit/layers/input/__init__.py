"""``Input``: The graph input: a value fed at run time, with its shape and dtype.

``core`` holds the fields, validation, shape rule, reference call and spec form; ``onnx`` and ``caffe`` hold the
format facets, registered with the kind below.
"""

from ...registry import CaffeFacet, LayerKind, OnnxFacet, register
from . import caffe, onnx
from .core import Input

__all__ = ["Input", "KIND"]

KIND = register(
    LayerKind(
        layer=Input,
        onnx=OnnxFacet(write=onnx.write, graph_input=onnx.graph_input),
        caffe=CaffeFacet(write=caffe.write, types=caffe.TYPES, read=caffe.read),
    )
)
