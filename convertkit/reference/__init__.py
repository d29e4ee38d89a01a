"""NumPy reference implementations of the operators convertkit converts, and the graph interpreter.

``conv_transpose`` (fast path) and ``conv_transpose_scatter`` (the seed's scatter-add, the test oracle) follow
ONNX ConvTranspose; ``resize`` follows ONNX Resize as onnxruntime computes it; ``run_model`` evaluates a whole
:class:`~convertkit.ir.Model` layer by layer.

The forward kernels come in the same pairs (fast path + ``*_by_window`` oracle): ``conv`` (ONNX Conv = Caffe
Convolution) and ``inner_product`` in :mod:`.convolution`; Caffe and ONNX pooling, their argmax masks,
max-unpooling and the Caffe-to-ONNX pooling rule in :mod:`.pooling`; LRN, softmax and batch normalisation in
:mod:`.normalization`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# ``conv_transpose`` and ``resize`` are both a module and its function: imported here, so the package's name is
# the function whichever is imported first.  The other kernels load on first use (the memory estimate of a spec
# needs conv_transpose's block size, not the thread pools of the convolution kernels).
from .conv_transpose import conv_transpose as conv_transpose
from .conv_transpose import conv_transpose_scatter as conv_transpose_scatter
from .resize import resize as resize

if TYPE_CHECKING:
    from . import convolution as convolution
    from . import normalization as normalization
    from . import pooling as pooling
    from .convolution import *  # noqa: F403
    from .interpreter import run_model as run_model
    from .normalization import *  # noqa: F403
    from .pooling import *  # noqa: F403

#: The modules whose grouped ``__all__`` the package re-exports as they are, so a name added to a module is public
#: here without a second list to keep in step: Convolution and dense layers; Caffe and ONNX pooling, masks and
#: unpooling, Caffe pooling as ONNX; LRN, softmax, batch normalisation.
_KERNELS = ("convolution", "pooling", "normalization")
_OWN = [
    # Deconvolution and upsampling
    "conv_transpose",
    "conv_transpose_scatter",
    "resize",
    # Graphs
    "run_model",
]


def _all() -> list[str]:
    return _OWN + [n for m in _KERNELS for n in importlib.import_module(f".{m}", __name__).__all__]


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return _all()
    if name in (*_KERNELS, "interpreter"):
        return importlib.import_module(f".{name}", __name__)
    if name == "run_model":
        value = importlib.import_module(".interpreter", __name__).run_model
    else:
        for m in _KERNELS:
            module = importlib.import_module(f".{m}", __name__)
            if name in module.__all__:
                value = getattr(module, name)
                break
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_all(), *_KERNELS})
