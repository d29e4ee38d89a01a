"""``Transpose``: an axis permutation (ONNX Transpose; read inside the sub-pixel fusion only)."""

from ...registry import LayerKind, register
from . import onnx
from .core import Transpose

__all__ = ["Transpose", "KIND"]

KIND = register(LayerKind(layer=Transpose, onnx=onnx.FACET))
