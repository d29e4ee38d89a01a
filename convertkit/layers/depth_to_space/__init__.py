"""``DepthToSpace``: sub-pixel rearrangement (ONNX DepthToSpace / SpaceToDepth, PyTorch PixelShuffle/Unshuffle)."""

from ...registry import LayerKind, register
from . import caffe, onnx
from .core import DepthToSpace

__all__ = ["DepthToSpace", "KIND"]

KIND = register(LayerKind(layer=DepthToSpace, onnx=onnx.FACET, caffe=caffe.FACET))
