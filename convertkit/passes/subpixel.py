"""DepthToSpace's multi-node forms, defined once.

- **Stock Caffe** (export): Caffe has no DepthToSpace, but with kernel = stride = ``r`` and no pad every output
  pixel of a Deconvolution reads one input pixel through one kernel tap, so a one-hot kernel moves channels into
  blocks exactly: CRD as a grouped Deconvolution (group = C'), DCR as a dense one (its channels of one output
  channel are not contiguous, so no group fits unless C' = 1).  space_to_depth is the adjoint: a Convolution with
  the same one-hot array, kernel = stride = ``r`` (:func:`~convertkit.layers.depth_to_space.core.one_hot_kernel`).
- **Import** (after the Caffe and the ONNX reader): a Deconvolution / Convolution with exactly that weight (bit for
  bit), no bias or a zero bias, k = s = r >= 2, no pad, no dilation, no output_padding is a DepthToSpace again; and
  ``Reshape -> Transpose -> Reshape`` with one of the four sub-pixel views and permutations (PyTorch's
  ``PixelUnshuffle`` export, older ``PixelShuffle`` exports) is one DepthToSpace.

Non-finite values: the one-hot forms multiply the other taps / channels by 0, and ``0 * inf = NaN``, so an inf or
NaN anywhere in a block's r^2 input channels (depth_to_space) or in any pixel of a block (space_to_depth) makes
NaN where a true DepthToSpace copies the finite values.  The forms are exact for finite inputs only; the fusion
therefore turns a one-hot Deconvolution that would turn inf into NaN into a DepthToSpace that does not.
"""

from __future__ import annotations

import numpy as np

from ..fillers import Values
from ..ir import Layer, Meta, TensorType
from ..layers.convolution import Convolution
from ..layers.deconvolution import BlobTraining, Deconvolution, Padding
from ..layers.deconvolution.core import TRAINING
from ..layers.depth_to_space import DepthToSpace
from ..layers.depth_to_space.core import MODES, PERMUTATIONS, one_hot_kernel, split_shape
from ..layers.reshape import Reshape
from ..layers.transpose import Transpose
from . import ExportOptions, Fusion, Graph, Lowering

__all__ = ["LOWERINGS", "FUSIONS", "stock_caffe_form"]


def stock_caffe_form(layer: DepthToSpace, x: TensorType) -> Deconvolution | Convolution:
    """The one-hot Deconvolution (depth_to_space) or Convolution (space_to_depth) that is ``layer`` on ``x``."""
    r = layer.blocksize
    c = x.shape[1] // (r * r) if layer.to_space else x.shape[1]
    grouped = layer.mode == "CRD" or c == 1 or r == 1  # with one deep channel per block, DCR is CRD
    kernel = one_hot_kernel(layer.mode, r, c, grouped)
    group = c if grouped else 1
    if layer.to_space:
        return Deconvolution(
            name=layer.name,
            input=layer.input,
            output=layer.output,
            out_channels=c,
            group=group,
            kernel_shape=(r, r),
            strides=(r, r),
            padding=Padding(convention="caffe", pad=(0, 0)),
            bias_term=False,
            weight=Values(array=kernel),
            frozen=True,
        )
    frozen = BlobTraining(lr_mult=0.0, decay_mult=0.0)
    return Convolution(
        name=layer.name,
        input=layer.input,
        output=layer.output,
        out_channels=c * r * r,
        group=group,
        kernel_shape=(r, r),
        strides=(r, r),
        pads=(0, 0, 0, 0),
        bias_term=False,
        weight=Values(array=kernel),
        meta=Meta({TRAINING: (frozen,)}),
    )


def lower_for_caffe(layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions) -> list[Layer] | None:
    if not isinstance(layer, DepthToSpace):
        return None
    return [stock_caffe_form(layer, types[0])]


def _zero_bias(layer: Deconvolution | Convolution) -> bool:
    bias = layer.bias_array()
    return bias is None or not np.any(bias)


def fuse_one_hot(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """A one-hot Deconvolution / Convolution with k = s = r >= 2 and no pad -> the DepthToSpace it is."""
    layer = chain[0]
    if not isinstance(layer, (Deconvolution, Convolution)):
        return None
    x = graph.types[layer.input]
    if len(x.shape) != 4 or len(set(layer.kernel_shape)) != 1 or layer.kernel_shape[0] < 2:
        return None
    r = layer.kernel_shape[0]
    if layer.strides != (r, r) or layer.dilations != (1, 1) or not _zero_bias(layer):
        return None
    cin = x.shape[1]
    if isinstance(layer, Deconvolution):
        geometry = layer.geometry(x.shape[2:])
        if any(geometry.pads) or any(geometry.output_padding):
            return None
        direction, c = "depth_to_space", layer.out_channels
        if cin != c * r * r:
            return None
    else:
        if any(layer.pads or ()):
            return None
        direction, c = "space_to_depth", cin
        if layer.out_channels != c * r * r:
            return None
    if layer.group not in (1, c):
        return None
    grouped = layer.group == c
    weight = layer.weight_array(cin)
    for mode in ("CRD", "DCR") if grouped or c == 1 else ("DCR",):
        if np.array_equal(weight, one_hot_kernel(mode, r, c, grouped or c == 1)):
            fused = DepthToSpace(
                name=layer.name, input=layer.input, output=layer.output, blocksize=r, mode=mode, direction=direction
            )
            return fused, 1
    return None


def fuse_reshape_chain(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """``Reshape`` (the 6-D sub-pixel view) -> ``Transpose`` -> ``Reshape`` (4-D) -> one DepthToSpace."""
    if len(chain) < 3 or not (
        isinstance(chain[0], Reshape) and isinstance(chain[1], Transpose) and isinstance(chain[2], Reshape)
    ):
        return None
    split, move, merge = chain[0], chain[1], chain[2]
    x, view = graph.types[split.input].shape, graph.types[split.output].shape
    if len(x) != 4 or len(view) != 6:
        return None
    for (direction, mode), perm in PERMUTATIONS.items():
        if move.perm != perm:
            continue
        r = view[3] if direction == "space_to_depth" else view[1 if mode == "DCR" else 2]
        if r < 1 or split_shape(direction, mode, r, x) != view:
            continue
        fused = DepthToSpace(
            name=move.name, input=split.input, output=merge.output, blocksize=r, mode=mode, direction=direction
        )
        if fused.infer([graph.types[split.input]])[0].shape != graph.types[merge.output].shape:
            continue
        return fused, 3
    return None


assert set(MODES) == {"DCR", "CRD"}
LOWERINGS: dict[str, list[Lowering]] = {"caffe": [lower_for_caffe]}
FUSIONS: dict[str, list[tuple[int, Fusion]]] = {
    "import": [(3, fuse_reshape_chain), (1, fuse_one_hot)],
    "caffe-import": [(1, fuse_one_hot)],
}
