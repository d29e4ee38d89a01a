"""Caffe facet of ``LRN``: ``LRN`` with ``lrn_param`` (local_size, alpha, beta, k, norm_region); fields at
``LRNParameter``'s defaults are left out."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader, pb
from ...errors import FormatError, UnsupportedError
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import LRN

TYPES = ("LRN",)


def write(layer: LRN, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    if layer.size % 2 == 0:
        raise layer.error(
            f"size {layer.size} is even; Caffe's LRN takes odd local_size only (lrn_layer.cpp CHECK) and no stock "
            "Caffe layers say an even window exactly — keep it in ONNX",
            UnsupportedError,
        )
    if len(types[0].shape) != 4:
        raise layer.error(
            f"input has shape {list(types[0].shape)}; Caffe's LRN takes 4 axes (N, C, H, W) only (lrn_layer.cpp "
            "CHECK) — keep it in ONNX",
            UnsupportedError,
        )
    proto = ctx.add_layer(layer.name, "LRN", [layer.input], [layer.output])
    p = proto.lrn_param
    if layer.size != 5:
        p.local_size = layer.size
    if layer.alpha != 1.0:
        p.alpha = layer.alpha
    if layer.beta != 0.75:
        p.beta = layer.beta
    if layer.bias != 1.0:
        p.k = layer.bias
    if layer.norm_region == "within_channel":
        p.norm_region = pb.LRNParameter.WITHIN_CHANNEL


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    source.expect_one_in_one_out()
    p = source.param.lrn_param
    (x,) = source.in_types
    if p.local_size % 2 == 0:
        raise source.error(
            f"local_size {p.local_size} is even; Caffe refuses it (lrn_layer.cpp: 'LRN only supports odd values "
            "for local_size') — use an odd size",
            FormatError,
        )
    if len(x.shape) != 4:
        raise source.error(
            f"bottom has shape {list(x.shape)}; Caffe's LRN takes 4 axes (N, C, H, W) (lrn_layer.cpp CHECK)",
            FormatError,
        )
    if p.engine not in (0, 1):  # DEFAULT, CAFFE
        ctx.warn(f"{source.where}: engine {p.engine} is not kept (it does not change the result)")
    within = p.norm_region == pb.LRNParameter.WITHIN_CHANNEL
    return [
        LRN(
            name=source.name,
            input=source.inputs[0],
            output=source.outputs[0],
            size=int(p.local_size),
            alpha=float(p.alpha),
            beta=float(p.beta),
            bias=float(p.k),
            norm_region="within_channel" if within else "across_channels",
        )
    ]


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """OpenCV's Caffe reader ignores ``k`` across channels (its LRN reads a ``bias`` parameter, default 1, and the
    Caffe field is ``k``): measured with OpenCV 4.14, k 2 gives the k 1 result (tests/test_normalization_kinds.py)."""
    p = source.param.lrn_param
    if p.norm_region == pb.LRNParameter.ACROSS_CHANNELS and p.k != 1.0:
        return (
            f"OpenCV's Caffe LRN ignores k ({p.k}) and computes with k 1; the prototxt is valid Caffe — check with "
            "--backend reference or onnxruntime"
        )
    return None


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[LRN] = CaffeFacet(write=write, types=TYPES, read=read, opencv_refusal=opencv_refusal)
