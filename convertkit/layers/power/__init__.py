"""``Power``: ``(shift + scale * x) ^ power`` (Caffe Power; ONNX Mul / Add / Sub / Div / Pow by scalars, Neg)."""

from ...registry import LayerKind, register
from .core import Power

__all__ = ["Power", "KIND"]

KIND = register(LayerKind(layer=Power, package=__name__, facets=("onnx", "caffe")))
