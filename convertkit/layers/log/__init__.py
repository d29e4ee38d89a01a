"""``Log``: ``log_base(shift + scale * x)`` as Caffe computes it (Caffe Log; ONNX Log)."""

from ...registry import LayerKind, register
from .core import Log

__all__ = ["Log", "KIND"]

KIND = register(LayerKind(layer=Log, package=__name__, facets=("onnx", "caffe")))
