"""``Crop``: Crop to a reference blob's shape (Caffe Crop) or to an explicit offset and shape (ONNX Slice).

``core`` holds the fields, validation, shape rule, reference call and spec form; ``onnx`` and ``caffe`` hold the
format facets, registered with the kind below.
"""

from ...registry import CaffeFacet, LayerKind, OnnxFacet, register
from . import caffe, onnx
from .core import Crop

__all__ = ["Crop", "KIND"]

KIND = register(
    LayerKind(
        layer=Crop,
        onnx=OnnxFacet(write=onnx.write, op_types=onnx.OP_TYPES, read=onnx.read),
        caffe=CaffeFacet(write=caffe.write, types=caffe.TYPES, read=caffe.read),
    )
)
