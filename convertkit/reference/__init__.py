"""NumPy reference implementations of the operators convertkit converts, and the graph interpreter.

``conv_transpose`` (fast path) and ``conv_transpose_scatter`` (the seed's scatter-add, the test oracle) follow
ONNX ConvTranspose; ``resize`` follows ONNX Resize as onnxruntime computes it; ``run_model`` evaluates a whole
:class:`~convertkit.ir.Model` layer by layer.
"""

from .conv_transpose import conv_transpose, conv_transpose_scatter
from .interpreter import run_model
from .resize import resize

__all__ = ["conv_transpose", "conv_transpose_scatter", "resize", "run_model"]
