"""``DepthToSpace``: sub-pixel rearrangement (ONNX DepthToSpace / SpaceToDepth, PyTorch PixelShuffle/Unshuffle)."""

from ...registry import LayerKind, register
from .core import DepthToSpace

__all__ = ["DepthToSpace", "KIND"]

KIND = register(LayerKind(layer=DepthToSpace, package=__name__, facets=("onnx", "caffe")))
