"""``Bias``: a per-channel constant added along the channel axis (ONNX Add of a constant).

``core`` holds the fields, validation, shape rule, reference call and spec form; ``onnx`` holds the ONNX facet.
Like ``Pad``, an ONNX Add read as a Bias is kept only where a fusion absorbs it (``read_alone=False``) until
whole-network import; Caffe's ``Bias``/``Scale`` layers come with it.
"""

from ...registry import LayerKind, OnnxFacet, register
from . import onnx
from .core import Bias

__all__ = ["Bias", "KIND"]

KIND = register(
    LayerKind(layer=Bias, onnx=OnnxFacet(write=onnx.write, op_types=onnx.OP_TYPES, read=onnx.read, read_alone=False))
)
