"""NumPy reference implementations of the operators convertkit converts, and the graph interpreter.

``conv_transpose`` (fast path) and ``conv_transpose_scatter`` (the seed's scatter-add, the test oracle) follow
ONNX ConvTranspose; ``resize`` follows ONNX Resize as onnxruntime computes it; ``run_model`` evaluates a whole
:class:`~convertkit.ir.Model` layer by layer.

The forward kernels come in the same pairs (fast path + ``*_by_window`` oracle): ``conv`` (ONNX Conv = Caffe
Convolution) and ``inner_product`` in :mod:`.convolution`; Caffe and ONNX pooling, their argmax masks,
max-unpooling and the Caffe-to-ONNX pooling rule in :mod:`.pooling`; LRN, softmax and batch normalisation in
:mod:`.normalization`.
"""

from .conv_transpose import conv_transpose, conv_transpose_scatter
from .convolution import conv, conv_by_window, inner_product
from .interpreter import run_model
from .resize import resize

__all__ = [
    # Deconvolution and upsampling
    "conv_transpose",
    "conv_transpose_scatter",
    "resize",
    # Convolution and dense layers
    "conv",
    "conv_by_window",
    "inner_product",
    # Graphs
    "run_model",
]
