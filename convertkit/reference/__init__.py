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
from .normalization import (
    batch_norm,
    batch_norm_by_formula,
    caffe_batch_norm,
    caffe_batch_norm_statistics,
    caffe_lrn,
    lrn,
    lrn_by_window,
    softmax,
    softmax_flattened,
)
from .pooling import (
    CaffePooling,
    OnnxPooling,
    average_pool,
    average_pool_by_window,
    caffe_mask_to_onnx_indices,
    caffe_max_pool_with_mask,
    caffe_max_unpool,
    caffe_pool,
    caffe_pool_by_window,
    caffe_pool_divisors,
    caffe_pooling_as_onnx,
    caffe_pooling_equals_onnx,
    global_average_pool,
    global_max_pool,
    max_pool,
    max_pool_by_window,
    max_pool_with_indices,
    max_unpool,
    onnx_indices_to_caffe_mask,
    onnx_pool_divisors,
)
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
    # Caffe pooling
    "caffe_pool",
    "caffe_max_pool_with_mask",
    "caffe_pool_by_window",
    "caffe_pool_divisors",
    # ONNX pooling
    "max_pool",
    "max_pool_with_indices",
    "max_pool_by_window",
    "average_pool",
    "average_pool_by_window",
    "onnx_pool_divisors",
    "global_max_pool",
    "global_average_pool",
    # Masks and unpooling
    "caffe_mask_to_onnx_indices",
    "onnx_indices_to_caffe_mask",
    "max_unpool",
    "caffe_max_unpool",
    # Caffe pooling as ONNX
    "CaffePooling",
    "OnnxPooling",
    "caffe_pooling_as_onnx",
    "caffe_pooling_equals_onnx",
    # Normalisation
    "lrn",
    "lrn_by_window",
    "caffe_lrn",
    "softmax",
    "softmax_flattened",
    "batch_norm",
    "batch_norm_by_formula",
    "caffe_batch_norm",
    "caffe_batch_norm_statistics",
    # Graphs
    "run_model",
]
