"""``Slice``: Split along one axis at slice points (ONNX Split, Caffe Slice).

``core`` holds the fields, validation, shape rule, reference call and spec form; ``onnx`` and ``caffe`` hold the
format facets, registered with the kind below.
"""

from ...registry import CaffeFacet, LayerKind, OnnxFacet, register
from . import caffe, onnx
from .core import Slice

__all__ = ["Slice", "KIND"]

KIND = register(
    LayerKind(
        layer=Slice,
        onnx=OnnxFacet(write=onnx.write, op_types=onnx.OP_TYPES, read=onnx.read),
        caffe=CaffeFacet(write=caffe.write, types=caffe.TYPES, read=caffe.read),
    )
)
