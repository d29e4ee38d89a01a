"""Batch normalisation's multi-node forms, defined once.

**Caffe BatchNorm + Scale -> one ONNX BatchNormalization** (ONNX export): a plain ``BatchNorm`` whose only reader
is a one-input ``Scale`` over the channels (axis 1, one axis) is one ``BatchNorm`` carrying that scale and bias.
The IR keeps the Caffe pair as two layers, so a prototxt round trip writes them as they were.

**BatchNorm with scale/bias -> Caffe BatchNorm + Scale** (Caffe export): Caffe's BatchNorm has no scale or
shift; a ``Scale`` (``bias_term`` when there is a bias; a unit scale when only a bias) follows it.  A layer read
from a PSPNet or SegNet fork ``BN`` stays one layer with that fork's dialect (it is written back as the ``BN``).

**Mul + Add of per-channel constants -> one Scale with bias** (ONNX import): how a Scale with ``bias_term``
over the channels is written (:mod:`convertkit.layers.scale.onnx`).
"""

from __future__ import annotations

import dataclasses

from ..fillers import Filler
from ..ir import Layer, Meta, TensorType
from ..layers.batch_norm import BatchNorm
from ..layers.batch_norm.fork import FORK_BN, fork_form
from ..layers.bias import Bias
from ..layers.scale import Scale
from ..layers.scale.core import scale_axes
from . import ExportOptions, Fusion, Graph, Lowering

__all__ = ["LOWERINGS", "FUSIONS"]


def _per_channel(scale: Scale, types: list[TensorType]) -> bool:
    """A one-input Scale of one value per channel (axis 1, one axis)."""
    if len(scale.input_names) != 1 or len(types[0].shape) < 2:
        return False
    return scale_axes(scale.axis, scale.num_axes, len(types[0].shape)) == (1, 1)


def fuse_batch_norm_scale(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """ONNX export: ``BatchNorm -> Scale(axis 1, num_axes 1)`` as one BatchNorm with scale and bias."""
    if len(chain) < 2:
        return None
    bn, scale = chain[0], chain[1]
    if not isinstance(bn, BatchNorm) or bn.fused or not isinstance(scale, Scale):
        return None
    if not _per_channel(scale, graph.input_types(scale)):
        return None
    return dataclasses.replace(bn, output=scale.output, scale=scale.scale, bias=scale.bias, meta=Meta()), 2


def fuse_scale_bias(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """ONNX import: ``Scale(axis 1, num_axes 1, no bias) -> Bias`` as one Scale with bias."""
    if len(chain) < 2:
        return None
    scale, bias = chain[0], chain[1]
    if not isinstance(scale, Scale) or scale.bias is not None or not isinstance(bias, Bias):
        return None
    if not _per_channel(scale, graph.input_types(scale)):
        return None
    return dataclasses.replace(scale, axis=1, num_axes=1, output=bias.output, bias=bias.bias), 2


def lower_batch_norm(layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions) -> list[Layer] | None:
    """Caffe: a BatchNorm with scale/bias as ``BatchNorm -> Scale``."""
    if not isinstance(layer, BatchNorm) or not layer.fused or fork_form(layer, options.dialect) is not None:
        return None
    normalised = graph.names.fresh(f"{layer.name}.normalised")
    plain = dataclasses.replace(layer, output=normalised, scale=None, bias=None, meta=layer.meta.without(FORK_BN))
    scale = Scale(
        name=graph.names.fresh(f"{layer.name}_scale"),
        input_names=(normalised,),
        output=layer.output,
        scale=layer.scale if layer.scale is not None else Filler(type="constant", value=1.0),
        bias=layer.bias,
    )
    return [plain, scale]


LOWERINGS: dict[str, list[Lowering]] = {"caffe": [lower_batch_norm]}
FUSIONS: dict[str, list[tuple[int, Fusion]]] = {
    "onnx-export": [(2, fuse_batch_norm_scale)],
    "import": [(2, fuse_scale_bias)],
}
