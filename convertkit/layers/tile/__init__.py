"""``Tile``: repeat a whole tensor along its axes (inside TensorFlow's nearest-upsampling repeat form)."""

from ...registry import LayerKind, register
from . import onnx
from .core import Tile

__all__ = ["Tile", "KIND"]

KIND = register(LayerKind(layer=Tile, onnx=onnx.FACET))
