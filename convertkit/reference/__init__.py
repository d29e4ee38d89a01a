"""NumPy reference implementations of the operators convertkit converts, and the graph interpreter.

``conv_transpose`` (fast path) and ``conv_transpose_scatter`` (the seed's scatter-add, the test oracle) follow
ONNX ConvTranspose; ``resize`` follows ONNX Resize as onnxruntime computes it; ``run_model`` evaluates a whole
:class:`~convertkit.ir.Model` layer by layer.

The forward kernels come in the same pairs (fast path + ``*_by_window`` oracle): ``conv`` (ONNX Conv = Caffe
Convolution) and ``inner_product`` in :mod:`.convolution`; Caffe and ONNX pooling, their argmax masks,
max-unpooling and the Caffe-to-ONNX pooling rule in :mod:`.pooling`; LRN, softmax and batch normalisation in
:mod:`.normalization`.
"""

# The kernel modules keep their own grouped ``__all__``; the package re-exports them as they are, so a name added
# to a module is public here without a second list to keep in step.
from . import convolution, normalization, pooling
from .conv_transpose import conv_transpose, conv_transpose_scatter
from .convolution import *  # noqa: F403
from .interpreter import run_model
from .normalization import *  # noqa: F403
from .pooling import *  # noqa: F403
from .resize import resize

__all__ = [
    # Deconvolution and upsampling
    "conv_transpose",
    "conv_transpose_scatter",
    "resize",
    # Graphs
    "run_model",
]
__all__ += convolution.__all__  # Convolution and dense layers
__all__ += pooling.__all__  # Caffe and ONNX pooling, masks and unpooling, Caffe pooling as ONNX
__all__ += normalization.__all__  # LRN, softmax, batch normalisation
