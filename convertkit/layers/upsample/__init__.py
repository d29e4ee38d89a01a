"""``Upsample``: nearest / linear / cubic upsampling with its semantics stated (ONNX Resize, Caffe recipes, Interp)."""

from ...registry import LayerKind, register
from .core import COORDINATE_TRANSFORMATION_MODES, KEEP_ASPECT_RATIO_POLICIES, NEAREST_MODES, InterpForm, Upsample

__all__ = [
    "Upsample",
    "InterpForm",
    "COORDINATE_TRANSFORMATION_MODES",
    "NEAREST_MODES",
    "KEEP_ASPECT_RATIO_POLICIES",
    "KIND",
]

KIND = register(LayerKind(layer=Upsample, package=__name__, facets=("onnx", "caffe", "keras")))
