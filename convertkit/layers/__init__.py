"""Layer kinds, one package each; importing this package registers them all (:mod:`convertkit.registry`).

Each kind's package holds ``core.py`` (fields, validation, shape rule, reference call, spec form) and one module
per format facet (``onnx.py``, ``caffe.py``); its ``__init__`` registers one :class:`~convertkit.registry.LayerKind`
naming those modules, which the registry imports on first use (importing this package loads the cores only).
"""

from .activation import Activation
from .batch_norm import BatchNorm
from .bias import Bias
from .concat import Concat
from .convolution import Convolution
from .crop import Crop
from .deconvolution import BlobTraining, Deconvolution, Geometry, Padding
from .depth_to_space import DepthToSpace
from .eltwise import Eltwise
from .exp import Exp
from .flatten import Flatten
from .identity import Identity
from .inner_product import InnerProduct
from .input import Input
from .log import Log
from .lrn import LRN
from .max_unpool import MaxUnpool
from .pad import Pad
from .pooling import Pooling
from .power import Power
from .prelu import PReLU
from .reshape import Reshape
from .scale import Scale
from .slice import Slice
from .softmax import Softmax
from .tile import Tile
from .transpose import Transpose
from .upsample import InterpForm, Upsample

__all__ = [
    "Input",
    "Deconvolution",
    "Convolution",
    "Padding",
    "Geometry",
    "BlobTraining",
    "Upsample",
    "InterpForm",
    "Crop",
    "Slice",
    "Concat",
    "Pad",
    "Pooling",
    "Bias",
    "Activation",
    "PReLU",
    "Eltwise",
    "Softmax",
    "Identity",
    "BatchNorm",
    "Scale",
    "LRN",
    "Power",
    "Exp",
    "Log",
    "Flatten",
    "Reshape",
    "InnerProduct",
    "MaxUnpool",
    "DepthToSpace",
    "Transpose",
    "Tile",
]
