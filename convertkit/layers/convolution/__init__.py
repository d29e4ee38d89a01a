"""``Convolution``: N-D grouped, dilated convolution (ONNX Conv, Caffe Convolution)."""

from ...registry import LayerKind, register
from .core import AUTO_PADS, Convolution, onnx_auto_pad_conv_pads

__all__ = ["Convolution", "AUTO_PADS", "onnx_auto_pad_conv_pads", "KIND"]

KIND = register(LayerKind(layer=Convolution, package=__name__, facets=("onnx", "caffe", "keras")))
