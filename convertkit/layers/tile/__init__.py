"""``Tile``: repeat a whole tensor along its axes (inside TensorFlow's nearest-upsampling repeat form)."""

from ...registry import LayerKind, register
from .core import Tile

__all__ = ["Tile", "KIND"]

KIND = register(LayerKind(layer=Tile, package=__name__, facets=("onnx",)))
