"""``Deconvolution``: N-D transposed convolution (ONNX ConvTranspose, Caffe Deconvolution).

``core`` holds the fields, validation, padding conventions, shape rule, reference call and spec form; ``onnx`` and
``caffe`` hold the format facets, registered with the kind below.
"""

from ...registry import CaffeFacet, LayerKind, OnnxFacet, register
from . import caffe, onnx
from .core import PADDING_CONVENTIONS, BlobTraining, Deconvolution, Geometry, Padding

__all__ = ["Deconvolution", "Padding", "Geometry", "BlobTraining", "PADDING_CONVENTIONS", "KIND"]

KIND = register(
    LayerKind(
        layer=Deconvolution,
        onnx=OnnxFacet(
            write=onnx.write,
            op_types=onnx.OP_TYPES,
            read=onnx.read,
        ),
        caffe=CaffeFacet(
            write=caffe.write,
            types=caffe.TYPES,
            read=caffe.read,
            blobs=caffe.blobs,
            opencv_refusal=caffe.opencv_refusal,
        ),
    )
)
