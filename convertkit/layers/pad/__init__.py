"""``Pad``: zero or edge padding of the spatial axes (ONNX Pad; stock Caffe forms when written).

``core`` holds the fields, validation, shape rule, reference call and spec form; ``onnx`` and ``caffe`` hold the
format facets, registered with the kind below.  A Pad read from ONNX is kept only where a fusion absorbs it
(``read_alone=False``): a lone Pad on a run-time tensor is listed as an unsupported op until whole-network import.
"""

from ...registry import CaffeFacet, LayerKind, OnnxFacet, register
from . import caffe, onnx
from .core import PAD_MODES, Pad

__all__ = ["Pad", "PAD_MODES", "KIND"]

KIND = register(
    LayerKind(
        layer=Pad,
        onnx=OnnxFacet(write=onnx.write, op_types=onnx.OP_TYPES, read=onnx.read, read_alone=False),
        caffe=CaffeFacet(write=caffe.write),
    )
)
