"""``Deconvolution``: N-D transposed convolution (ONNX ConvTranspose, Caffe Deconvolution)."""

from ...registry import LayerKind, register
from . import caffe, keras, onnx
from .core import PADDING_CONVENTIONS, BlobTraining, Deconvolution, Geometry, Padding

__all__ = ["Deconvolution", "Padding", "Geometry", "BlobTraining", "PADDING_CONVENTIONS", "KIND"]

KIND = register(LayerKind(layer=Deconvolution, onnx=onnx.FACET, caffe=caffe.FACET, keras=keras.FACET))
