"""``Convolution``: N-D grouped, dilated convolution (ONNX Conv, Caffe Convolution)."""

from ...registry import LayerKind, register
from . import caffe, keras, onnx
from .core import AUTO_PADS, Convolution, onnx_auto_pad_conv_pads

__all__ = ["Convolution", "AUTO_PADS", "onnx_auto_pad_conv_pads", "KIND"]

KIND = register(LayerKind(layer=Convolution, onnx=onnx.FACET, caffe=caffe.FACET, keras=keras.FACET))
