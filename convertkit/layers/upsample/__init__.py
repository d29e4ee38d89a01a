"""``Upsample``: nearest / linear / cubic upsampling with its semantics stated (ONNX Resize, Caffe recipes, Interp).

``core`` holds the fields, validation, shape rule, reference call and spec form; ``onnx`` and ``caffe`` hold the
format facets, registered with the kind below.
"""

from ...registry import CaffeFacet, LayerKind, OnnxFacet, register
from . import caffe, onnx
from .core import COORDINATE_TRANSFORMATION_MODES, KEEP_ASPECT_RATIO_POLICIES, NEAREST_MODES, InterpForm, Upsample

__all__ = [
    "Upsample",
    "InterpForm",
    "COORDINATE_TRANSFORMATION_MODES",
    "NEAREST_MODES",
    "KEEP_ASPECT_RATIO_POLICIES",
    "KIND",
]

KIND = register(
    LayerKind(
        layer=Upsample,
        onnx=OnnxFacet(
            write=onnx.write,
            op_types=onnx.OP_TYPES,
            read=onnx.read,
        ),
        caffe=CaffeFacet(
            write=caffe.write,
            types=caffe.TYPES,
            read=caffe.read,
            opencv_refusal=caffe.opencv_refusal,
        ),
    )
)
