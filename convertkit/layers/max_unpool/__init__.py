"""``MaxUnpool``: max-unpooling by a pooling's argmax mask (ONNX MaxUnpool; Caffe forks' ``Upsample`` (SegNet,
ENet) and ``UNPOOLING`` (DeconvNet); stock Caffe through :mod:`convertkit.passes.unpool`)."""

from ...registry import LayerKind, register
from .core import MaxUnpool

__all__ = ["MaxUnpool", "KIND"]

KIND = register(LayerKind(layer=MaxUnpool, package=__name__, facets=("onnx", "caffe")))
