"""``Upsample``: nearest / linear / cubic upsampling with its semantics stated (ONNX Resize, Caffe recipes, Interp)."""

from ...registry import LayerKind, register
from . import caffe, keras, onnx
from .core import COORDINATE_TRANSFORMATION_MODES, KEEP_ASPECT_RATIO_POLICIES, NEAREST_MODES, InterpForm, Upsample

__all__ = [
    "Upsample",
    "InterpForm",
    "COORDINATE_TRANSFORMATION_MODES",
    "NEAREST_MODES",
    "KEEP_ASPECT_RATIO_POLICIES",
    "KIND",
]

KIND = register(LayerKind(layer=Upsample, onnx=onnx.FACET, caffe=caffe.FACET, keras=keras.FACET))
