"""Layer kinds, one module each; importing this package registers them all in ``convertkit.ir.LAYER_KINDS``."""

from .concat import Concat
from .crop import Crop
from .deconvolution import BlobTraining, Deconvolution, Geometry, Padding
from .input import Input
from .slice import Slice
from .upsample import InterpForm, Upsample

__all__ = [
    "Input",
    "Deconvolution",
    "Padding",
    "Geometry",
    "BlobTraining",
    "Upsample",
    "InterpForm",
    "Crop",
    "Slice",
    "Concat",
]
