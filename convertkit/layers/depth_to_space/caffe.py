"""Caffe facet of ``DepthToSpace``: Caffe has no such layer; the stock one-hot forms are an IR lowering.

:mod:`convertkit.passes.subpixel` writes the layer as a frozen one-hot ``Deconvolution`` (depth_to_space) or
``Convolution`` (space_to_depth) before export and recognises those back on import; what reaches this writer was
not lowered.
"""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter
from ...errors import UnsupportedError
from ...ir import TensorType
from ...registry import CaffeFacet
from .core import DepthToSpace


def write(layer: DepthToSpace, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    raise layer.error(
        "has no Caffe layer of its own; export through convertkit.to_caffe, which lowers it to a one-hot "
        "Deconvolution / Convolution first",
        UnsupportedError,
    )


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[DepthToSpace] = CaffeFacet(write=write)
