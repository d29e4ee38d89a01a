"""``Deconvolution``: N-D transposed convolution (ONNX ConvTranspose, Caffe Deconvolution)."""

from ...registry import LayerKind, register
from .core import PADDING_CONVENTIONS, BlobTraining, Deconvolution, Geometry, Padding

__all__ = ["Deconvolution", "Padding", "Geometry", "BlobTraining", "PADDING_CONVENTIONS", "KIND"]

KIND = register(LayerKind(layer=Deconvolution, package=__name__, facets=("onnx", "caffe", "keras")))
